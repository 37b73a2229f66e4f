"""The terminal channel (`hcc-bot demo`): a unit contact's chat on standard input and output.

It reads line by line, so it can be driven by a script (`hcc-bot demo < answers.txt`), and exits cleanly
at the end of input. A photo is given as the path of an image file.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TextIO

from bot import photos
from bot.service import Inbound, Service
from conversations import texts
from conversations.engine import Reply, parse_command, render_plain
from storage import queries as q

CHANNEL = "terminal"


async def bind_demo_contact(service: Service, unit_code: str) -> tuple[str, str, str]:
    """Make (or reuse) the terminal contact of a unit, bound without an invite: (user id, unit name, code)."""
    now = service.clock()
    async with service.db.transaction() as s:
        unit = await q.get_unit_by_code(s, unit_code)
        if unit is None:
            raise LookupError(texts.CLI_UNIT_UNKNOWN.format(code=unit_code))
        user_id = f"demo-{unit.code.lower()}"
        contact = await q.get_or_create_contact(s, channel=CHANNEL, platform_user_id=user_id, chat_id=user_id,
                                                display_name="demo", now=now)
        contact.role, contact.unit_id = "unit", unit.id
        return user_id, unit.name, unit.code


class TerminalFiles:
    """Files for the terminal contact (their unit's document): say where they were written."""

    def __init__(self, out: TextIO):
        self.out = out

    async def deliver_files(self, chat_id: str, user_id: str, text: str, files: list[Path]) -> None:
        lines = [text, *(texts.DEMO_FILE_WRITTEN.format(path=path) for path in files)]
        self.out.write("\n" + "\n".join(lines) + "\n> ")
        self.out.flush()

    async def progress(self, chat_id: str, user_id: str, text: str) -> None:
        """No progress lines in the terminal."""


def _print_replies(replies: list[Reply] | None, out: TextIO) -> bool:
    """Print replies; whether the last one asks for a photo."""
    expects_photo = False
    for reply in replies or []:
        text = render_plain(reply)
        if reply.expects_photo:
            text += "\n" + texts.DEMO_PHOTO_HINT
        out.write(f"\n{text}\n> ")
        out.flush()
        expects_photo = reply.expects_photo
    return expects_photo


async def run_demo(service: Service, unit_code: str, stdin: TextIO, stdout: TextIO) -> None:
    """Chat on the terminal until the end of input."""
    user_id, name, code = await bind_demo_contact(service, unit_code)
    photos.warm_up()
    stdout.write(texts.DEMO_BANNER.format(unit=name, code=code) + "\n")
    run = uuid.uuid4().hex[:12]
    counter = 0

    async def send(**content) -> bool:
        nonlocal counter
        counter += 1
        inbound = Inbound(channel=CHANNEL, user_id=user_id, chat_id=user_id, event_id=f"{run}:{counter}",
                          display_name="demo", **content)
        expects_photo = _print_replies(await service.handle(inbound), stdout)
        service.sent(inbound)
        return expects_photo

    service.deliverers[CHANNEL] = TerminalFiles(stdout)
    expects_photo = await send(start=True)
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            await service.jobs.drain()  # a document asked for ("tải báo cáo") is written before we leave
            await service.close()
            stdout.write("\n" + texts.DEMO_BYE + "\n")
            return
        line = line.rstrip("\r\n")
        if not line.strip():
            stdout.write("> ")  # an empty Enter is not a message
            stdout.flush()
            continue
        if not stdin.isatty():
            stdout.write(line + "\n")  # echo scripted input so the transcript reads as a conversation
        if expects_photo and line.strip() and parse_command(line) is None:
            path = Path(line.strip().strip("'\"")).expanduser()
            try:
                data = path.read_bytes()
            except OSError:
                stdout.write(texts.DEMO_FILE_NOT_FOUND.format(path=line.strip()) + "\n> ")
                continue
            expects_photo = await send(photo=data)
            continue
        expects_photo = await send(text=line)
