"""English texts, for users whose Telegram language is English."""

from bot.texts import Texts

TEXTS = Texts(
    language="en",
    start=(
        "Hello! I write Chinese song lyrics.\n"
        "Send one Han character and I write a line that starts with it and ends with \"/\".\n"
        "Send several (up to {limit}) and I write an acrostic, one line per character.\n"
        "The buttons 1–5 below a line rate it; \"another\" writes a new one.\n"
        "See /help for the commands."
    ),
    help=(
        "Send one or more Han characters (up to {limit}).\n"
        "1–5: rate the answer; press again to change the score.\n"
        "another: write a new line for the same characters.\n"
        "/history your answers and scores\n"
        "/model the current model\n"
        "/settings choose how adventurous the lines are\n"
        "/forget delete your history"
    ),
    commands={
        "start": "Start",
        "help": "How to use the bot",
        "history": "Your answers and scores",
        "model": "The current model",
        "settings": "How adventurous the lines are",
        "forget": "Delete your history",
    },
    unknown_command="Unknown command. Send Han characters for lyrics, or see /help.",
    no_han="Please send Han characters, for example: 春",
    not_han="“{character}” is not a Han character. Please send only Han characters, for example: 春",
    too_long="At most {limit} Han characters, please send fewer.",
    not_text="I can only read text. Send a Han character, for example: 春",
    unknown_character="I don't know \"{character}\" yet. Try one of these: {suggestions}",
    unknown_character_no_suggestions="I don't know \"{character}\" yet; please try another character.",
    converted="(traditional converted to simplified: {pairs})",
    converted_pair="{traditional}→{simplified}",
    rate_limited="Too many messages; please try again in {seconds} s.",
    something_went_wrong="Sorry, something went wrong. Please try again later.",
    another_button="another",
    rating_saved="Saved: {score}",
    rating_unchanged="Already rated {score}",
    button_expired="This button has expired.",
    not_allowed_to_rate="You can only rate answers sent to this chat.",
    writing_another="Writing another line…",
    history_empty="No history yet. Send a Han character to start.",
    history_header="Your answers (page {page}/{pages}, {total} in all)",
    history_entry="{when}  「{prompt}」  {score}\n{text}",
    history_unrated="not rated",
    history_previous="‹ newer",
    history_next="older ›",
    model_info="Model version: {version}\nTrained: {created_at}\nValidation bits per character: {val_bpc}",
    model_metric_missing="unknown",
    settings_prompt="Choose how adventurous the lines are (now: {current}):",
    settings_saved="Set to: {level}",
    level_names={"calm": "calm", "balanced": "balanced", "bold": "bold"},
    forget_confirm="Delete all your answers and ratings? This cannot be undone.",
    forget_yes="Delete",
    forget_no="Cancel",
    forget_done="Deleted {generations} answers and {ratings} ratings.",
    forget_cancelled="Cancelled; nothing was deleted.",
    admin_only="This command is for admins only.",
    stats_header="Users: {users}\nAnswers: {generations}\nRatings: {ratings}\nBy model version:",
    stats_row="{version}: {generations} answers, {ratings} ratings, average {average}",
    stats_no_ratings="—",
)
