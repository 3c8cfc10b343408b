"""Simplified Chinese texts, the default language."""

from bot.texts import Texts

TEXTS = Texts(
    language="zh",
    start=(
        "你好！我是写歌词的机器人。\n"
        "发一个汉字，我写一句以它开头、以“/”结尾的歌词。\n"
        "发几个汉字（最多 {limit} 个），我写一首藏头词，每个字一句。\n"
        "歌词下面的 1–5 是评分按钮，“再来一句”换一句新的。\n"
        "更多命令见 /help。"
    ),
    help=(
        "用法：发一个或几个汉字（最多 {limit} 个）。\n"
        "1–5：给这条回答打分，再按一次可以改分。\n"
        "再来一句：用同样的字再写一次。\n"
        "/history 我的回答和评分\n"
        "/model 当前模型\n"
        "/settings 选择写作风格\n"
        "/forget 删除我的记录"
    ),
    commands={
        "start": "开始",
        "help": "用法",
        "history": "我的回答和评分",
        "model": "当前模型",
        "settings": "写作风格",
        "forget": "删除我的记录",
    },
    unknown_command="没有这个命令。发汉字就能得到歌词，命令列表见 /help。",
    no_han="请发汉字，例如：春",
    not_han="「{character}」不是汉字。请只发汉字，例如：春",
    too_long="最多 {limit} 个汉字，请发短一点。",
    not_text="我只能读文字。请发一个汉字，例如：春",
    unknown_character="我还不认识“{character}”。试试这些字：{suggestions}",
    unknown_character_no_suggestions="我还不认识“{character}”，请换一个字。",
    converted="（已将繁体转为简体：{pairs}）",
    converted_pair="{traditional}→{simplified}",
    rate_limited="发得太快了，请 {seconds} 秒后再试。",
    something_went_wrong="抱歉，出了点问题，请稍后再试。",
    another_button="再来一句",
    rating_saved="已记录：{score} 分",
    rating_unchanged="已经是 {score} 分了",
    button_expired="这个按钮已失效。",
    not_allowed_to_rate="只能给发到这个聊天的回答评分。",
    writing_another="正在写新的一句……",
    history_empty="还没有记录。发一个汉字试试吧。",
    history_header="我的回答（第 {page}/{pages} 页，共 {total} 条）",
    history_entry="{when}　「{prompt}」　{score}\n{text}",
    history_unrated="未评分",
    history_previous="‹ 较新",
    history_next="较早 ›",
    model_info="模型版本：{version}\n训练时间：{created_at}\n验证集每字比特数：{val_bpc}",
    model_metric_missing="未知",
    settings_prompt="选择写作风格（当前：{current}）：",
    settings_saved="已设为：{level}",
    level_names={"calm": "稳妥", "balanced": "平衡", "bold": "大胆"},
    forget_confirm="确定删除你的全部回答和评分吗？删除后不能恢复。",
    forget_yes="删除",
    forget_no="取消",
    forget_done="已删除 {generations} 条回答和 {ratings} 个评分。",
    forget_cancelled="已取消，什么也没删。",
    admin_only="这个命令只有管理员能用。",
    stats_header="用户：{users}\n回答：{generations}\n评分：{ratings}\n按模型版本：",
    stats_row="{version}：回答 {generations}，评分 {ratings}，平均 {average}",
    stats_no_ratings="—",
)
