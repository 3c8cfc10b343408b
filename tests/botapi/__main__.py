"""Run the local Bot API server on its own so a person can chat with the bot without a real token.

    python -m tests.botapi --port 8081
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .records import BotMessage
from .server import BotApiServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.botapi",
        description="Serve a local Telegram Bot API on 127.0.0.1 for trying and testing the bot.",
    )
    parser.add_argument("--port", type=int, default=8081, help="TCP port on 127.0.0.1; 0 picks a free one (default 8081)")
    parser.add_argument("--token", default=None, help="accept only this bot token (default: accept any)")
    parser.add_argument("--verbose", action="store_true", help="log every method call and error")
    return parser.parse_args(argv)


def print_reply(event: str, message: BotMessage) -> None:
    """Print a message the bot sent or edited, so the person at the console can read the replies."""
    label = "sent" if event == "message" else "edited"
    buttons = f"  [{' | '.join(message.button_texts)}]" if message.button_texts else ""
    file_note = f"  <{message.kind} {message.file.file_path}>" if message.file else ""
    print(f"bot {label} message {message.message_id} in chat {message.chat_id}: {message.text}{file_note}{buttons}", flush=True)


async def serve(args: argparse.Namespace) -> int:
    """Start the server, print how to use it and run until SIGINT or SIGTERM; return the exit code."""
    server = BotApiServer(port=args.port, token=args.token)
    server.observers.append(print_reply)
    try:
        await server.start()
    except OSError as error:
        # usually EADDRINUSE; the OS message names the cause, so one line is enough
        await server.stop()
        print(
            f"python -m tests.botapi: cannot listen on 127.0.0.1 port {args.port} ({error.strerror or error}); "
            "pass another --port, or --port 0 for a free one",
            file=sys.stderr,
        )
        return 1

    # handlers go in before the URL is printed, so a caller may signal as soon as it reads it
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)

    print(f"Bot API test server: {server.url}", flush=True)
    print(f"  bot settings:  LYRICBOT_BOT_API_URL={server.url}  TELEGRAM_BOT_TOKEN=123456:TEST", flush=True)
    print(f"  send as user:  curl -s -d '{{\"text\": \"春\"}}' {server.url}/_test/send", flush=True)
    print(f"  press button:  curl -s -d '{{\"message_id\": 2, \"button\": \"5\"}}' {server.url}/_test/press", flush=True)
    print(f"  read a chat:   curl -s '{server.url}/_test/messages?chat_id=1'", flush=True)

    await stop.wait()
    await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m tests.botapi`; return the process exit code."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
