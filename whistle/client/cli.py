"""The `whistle-report` console script: send a report encrypted on this machine, and come back to it
with the receipt to read, reply, add and fetch files. docs/whistle-report.md.

The receipt is read from the terminal (or standard input), never from the command line: other
users of the machine can see a process's arguments.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from whistle import crypto

from . import files, mailbox, report, trust
from .api import TRANSPORT_ERRORS, Api, ApiError, path
from .state import StateError, StateStore

PROBLEMS = "/api/v1/problems/"
ATTEMPTS = 3  # a case reference or receipt already taken, or a directory signed while we built: build again
READERS = {"reporter": "You", "system": "The service"}


@dataclass
class Console:
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    confirm: trust.Confirm

    def say(self, text: str) -> None:
        print(terminal_safe(text), file=self.stderr, flush=True)

    def show(self, text: str = "") -> None:
        print(terminal_safe(text), file=self.stdout, flush=True)


def terminal_safe(text: str) -> str:
    """`text` without control characters but line breaks and tabs: what the service or anyone holding
    the case's public key wrote is shown, never obeyed by the terminal (escape sequences)."""
    return "".join(ch if ch in "\n\t" or (ch.isprintable() and not 0x80 <= ord(ch) < 0xA0) else "\ufffd"
                   for ch in text)


def ask_on_terminal(question: str) -> bool | None:
    """Ask on the controlling terminal (not standard input, which may carry a receipt or a report)."""
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write(question)
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        return None


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                        help="where the pinned organisation key is kept (default ~/.config/whistle-report)")
    common.add_argument("--fingerprint", metavar="FP", default=argparse.SUPPRESS,
                        help="the organisation's fingerprint, as it publishes it on its own website")
    main = argparse.ArgumentParser(
        prog="whistle-report", parents=[common],
        description="Send a report to a whistle service, encrypted on this machine before it is sent, and "
                    "come back to it with your receipt. See docs/whistle-report.md.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.add_argument("url", metavar="URL", help="the service's address, e.g. https://speakup.example.org")
        return sub

    command("channels", "list the channels, their questions, and who reads reports on each")
    send = command("send", "send a report (text, answers, files), encrypted here; prints your receipt once")
    send.add_argument("channel", metavar="CHANNEL", help="the channel's short name (see `channels`)")
    send.add_argument("--text-file", metavar="F", default="-", help="the report's text, from a file or - (stdin)")
    send.add_argument("--answer", action="append", default=[], metavar="NAME=VALUE",
                      help="an answer to one of the channel's questions (repeat for more, and for several choices)")
    send.add_argument("--answer-in-clear", action="append", default=[], metavar="NAME=VALUE",
                      help="an answer to a routing question, which you agree to send unencrypted (see `channels`)")
    send.add_argument("--identity-mode", default="anonymous", choices=("anonymous", "confidential", "open"))
    send.add_argument("--name")
    send.add_argument("--contact")
    send.add_argument("--personnel-id")
    send.add_argument("--leave-out", action="append", default=[], metavar="USERNAME",
                      help="someone who should not read this report (it may be about them)")
    send.add_argument("--file", action="append", default=[], type=Path, metavar="PATH", help="a file to add")
    command("read", "read your report and the conversation (receipt from the terminal or stdin)")
    reply = command("reply", "send a message (receipt, then text, from the terminal or stdin)")
    reply.add_argument("--text-file", metavar="F", help="the message from a file (otherwise stdin after the receipt)")
    identity = command("identity", "tell the people handling your report who you are (receipt from the terminal "
                                   "or stdin), locked so that only they can read it")
    identity.add_argument("--identity-mode", required=True, choices=("confidential", "open"))
    identity.add_argument("--name", required=True)
    identity.add_argument("--contact")
    identity.add_argument("--personnel-id")
    upload = command("upload", "add a file to your report")
    upload.add_argument("file", type=Path, metavar="FILE")
    download = command("download", "fetch a file of your report and decrypt it here")
    download.add_argument("id", type=int, metavar="ID", help="the file's number, as `read` lists it")
    download.add_argument("--out", type=Path, required=True, metavar="PATH")
    return main


def main(argv: list[str] | None = None, *, console: Console | None = None) -> int:
    args = parser().parse_args(argv)
    console = console or Console(sys.stdin, sys.stdout, sys.stderr, ask_on_terminal)
    try:
        api = Api(args.url)
    except ValueError as error:
        console.say(f"whistle-report: {error}")
        return 2
    store = StateStore(getattr(args, "state", None))
    run: Callable[[Api, StateStore, argparse.Namespace, Console], int] = COMMANDS[args.command]
    try:
        return run(api, store, args, console)
    except trust.Refused as refusal:
        console.say(f"Refused. {refusal}")
    except report.BadReport as bad:
        console.say("Nothing was sent. Please correct:" + "".join(f"\n  {k}: {v}" for k, v in bad.errors.items()))
    except ApiError as error:
        console.say(f"The service refused: {error.words()}")
    except TRANSPORT_ERRORS as error:
        console.say(f"Could not reach {api.origin}: {error}")
    except StateError as error:
        console.say(f"whistle-report: {error}")
    except KeyboardInterrupt:
        console.say("Stopped.")
        return 130
    finally:
        end_session(api)
    return 1


def end_session(api: Api) -> None:
    """Log out of a session a command left open (it stopped on an error): the token dies now, not later."""
    try:
        mailbox.log_out(api)
    except (ApiError, *TRANSPORT_ERRORS):
        pass  # it expires by itself


def verified_directory(api: Api, store: StateStore, args: argparse.Namespace, console: Console,
                       slug: str) -> crypto.DirectoryDocument:
    return trust.directory_of(api, slug, store, fingerprint=getattr(args, "fingerprint", None),
                              confirm=console.confirm, say=console.say)


def any_directory(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> crypto.DirectoryDocument:
    """The service's directory (one for all channels), through the first channel that has one."""
    for channel in api.call("GET", path("channels"))["channels"]:
        try:
            return verified_directory(api, store, args, console, channel["slug"])
        except trust.NoDirectory:
            continue
    raise trust.Refused("The service publishes no key directory, so nothing can be encrypted for it.")


def channel_of(api: Api, slug: str) -> dict[str, Any]:
    for channel in api.call("GET", path("channels"))["channels"]:
        if channel["slug"] == slug:
            return channel
    raise trust.Refused(f"The service has no channel {slug!r}: see `whistle-report channels {api.url}`.")


def names(directory: crypto.DirectoryDocument, ids: tuple[int, ...]) -> str:
    return ", ".join(directory.guardians[i].username for i in ids)


# --- commands ------------------------------------------------------------------------------------

def cmd_channels(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    channels = api.call("GET", path("channels"))["channels"]
    directory = any_directory(api, store, args, console)
    for channel in channels:
        tiers = directory.listed_for(channel["slug"])
        state = "" if channel.get("accepting_reports", True) else "  (not taking reports right now)"
        console.show(f"{channel['slug']}: {channel['title']}{state}")
        if channel.get("introduction"):
            console.show(f"  {channel['introduction']}")
        console.show(f"  read by: {names(directory, tiers.first_tier) or 'nobody listed'}"
                     + (f"; if nobody of them can, or it is escalated: {names(directory, tiers.second_tier)}"
                        if tiers.second_tier else ""))
        console.show(f"  you may be: {', '.join(channel.get('identity_modes', []))}")
        for field in channel.get("fields", []):
            extra = [field["type"]] + (["required"] if field.get("required") else [])
            if field.get("routing"):
                extra.append("SENT UNENCRYPTED: it decides who reads the report")
            option = "--answer-in-clear" if field.get("routing") else "--answer"
            console.show(f"  {option} {field['name']}=...   {field['label']} ({', '.join(extra)})")
            if field.get("choices"):
                console.show(f"      choices: {' | '.join(field['choices'])}")
    return 0


def cmd_send(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    for file in args.file:
        if not file.is_file():
            raise trust.Refused(f"{file} is not a file. Nothing was sent.")
    text = read_text(args.text_file, console, "Type your report; end it with Ctrl-D on a line of its own.")
    answers: dict[str, list[str]] = {}
    in_clear: set[str] = set()
    for given, clear in [(given, False) for given in args.answer] + [(given, True) for given in args.answer_in_clear]:
        name, equals, value = given.partition("=")
        if not equals:
            raise report.BadReport({"answer": f"write each answer as NAME=VALUE, not {given!r}"})
        answers.setdefault(name.strip(), []).append(value)
        if clear:
            in_clear.add(name.strip())
    identity = {"name": args.name or "", "contact": args.contact or "", "personnel_id": args.personnel_id or ""}
    channel = channel_of(api, args.channel)
    if not channel.get("accepting_reports", True):
        raise trust.Refused(f"The channel {args.channel!r} is not taking reports right now. Nothing was sent.")
    directory = verified_directory(api, store, args, console, args.channel)
    for attempt in range(ATTEMPTS):
        checked = report.check_report(channel, text=text, answers=answers, identity_mode=args.identity_mode,
                                      identity=identity, left_out=args.leave_out, directory=directory,
                                      in_clear=in_clear)
        built = report.build_case(checked, directory)
        try:
            answer = api.call("POST", path("disclosures"), built.body)
            break
        except ApiError as error:
            if error.status != 409 or attempt == ATTEMPTS - 1:
                raise
            if error.type.endswith("/directory-changed"):
                console.say("The service's key directory changed while this report was prepared: encrypting again.")
                directory = verified_directory(api, store, args, console, args.channel)
            elif not error.type.endswith(("/case-ref-taken", "/receipt-taken")):
                raise
    api.token = answer["token"]
    opened = mailbox.Opened(built.ref, built.case_keys, None, True, {})
    failed: list[str] = []
    try:
        for file in args.file:
            try:
                files.upload(api, opened, file, say=console.say)
                console.say(f"Sent the file {file.name}.")
            except (ApiError, *TRANSPORT_ERRORS, files.FileChanged, OSError) as error:
                failed.append(f"{file}: {error}")
    finally:
        show_receipt(console, built, directory)
    for failure in failed:
        console.say(f"This file was NOT sent: {failure}\n  Your report was; add the file with "
                    f"`whistle-report upload {api.url} FILE` and your receipt.")
    mailbox.log_out(api)
    return 1 if failed else 0


def show_receipt(console: Console, built: report.Built, directory: crypto.DirectoryDocument) -> None:
    console.show("Your report was sent, encrypted on this machine.\n")
    console.show(f"    Your receipt:  {built.receipt}\n")
    console.show("Write it down now and keep it somewhere safe: it is shown only this once, and it is the only "
                 "way back to your report (to read replies and answer questions). Anyone who has it can read "
                 "your report. It is not stored on this machine or by the service.")
    console.show(f"Who will read it: {names(directory, built.holders)}.")
    if built.standby:
        console.show(f"If it is escalated (for example, when a deadline is missed): {names(directory, built.standby)}.")
    if built.escrow:
        console.show("The organisation's emergency (escrow) key, kept offline, can open it too.")


def cmd_read(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    opened = come_back(api, store, args, console, read_receipt(console))
    envelopes = opened.envelopes
    console.show(f"Your report {opened.ref}, sent {envelopes.get('opened', '')}: {envelopes.get('status_text', '')}")
    found = mailbox.entries(opened)
    for entry in found:
        if entry.kind == "disclosure":
            console.show("\nWhat you wrote:\n" + indent(entry.value))
        elif entry.kind == "answers":
            console.show("\nYour answers:")
            for name, value in (entry.value or {}).items():
                console.show(f"  {name}: {', '.join(value) if isinstance(value, list) else value}")
    if envelopes.get("identity_given"):
        console.show("\nYou told the people handling your report who you are.")
    messages = [entry for entry in found if entry.kind == "message"]
    console.show("\nMessages:" if messages else "\nNo messages yet.")
    for entry in messages:
        if entry.erased is not None:
            console.show(f"  {entry.at}  A message. {entry.erased}")
            continue
        console.show(f"  {entry.at}  {who(entry.author)}:\n{indent(entry.value, 6)}")
    listed = files.attachments(opened)
    erased_files = [entry for entry in found if entry.kind == "attachment-meta" and entry.erased is not None]
    console.show("\nFiles:" if listed or erased_files else "\nNo files.")
    for entry in erased_files:
        console.show(f"  A file. {entry.erased}")
    for item in listed:
        if item.name is None:
            console.show(f"  {item.id}  (its name and size did not verify)")
        else:
            console.show(f"  {item.id}  {item.name}  {item.size} bytes, from {who(item.author).lower()}")
    if any(entry.value is None and entry.erased is None for entry in found):
        console.show("\nSome items did not verify (marked above): they may have been changed on the server.")
    mailbox.log_out(api)
    return 0


def cmd_reply(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    receipt = read_receipt(console)
    text = read_text(args.text_file or "-", console, "Type your message; end it with Ctrl-D.").strip()
    if not text:
        raise report.BadReport({"text": "the message is empty"})
    opened = come_back(api, store, args, console, receipt)
    api.call("POST", path("reporter", "messages"), {"item": mailbox.encrypt_message(opened, text)})
    console.say("Your message was sent, encrypted on this machine.")
    mailbox.log_out(api)
    return 0


def cmd_identity(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    given = {"name": args.name.strip(), "contact": (args.contact or "").strip(),
             "personnel_id": (args.personnel_id or "").strip()}
    given = {name: value for name, value in given.items() if value}
    if "name" not in given:
        raise report.BadReport({"identity.name": "give your name with --name"})
    if any(len(value) > 500 for value in given.values()):
        raise report.BadReport({"identity": "keep each of name and contact under 500 characters"})
    opened = come_back(api, store, args, console, read_receipt(console))
    if opened.envelopes.get("identity_given"):
        raise trust.Refused("You have already said who you are on this report. Nothing was sent.")
    item = mailbox.encrypt_identity(opened, given, args.identity_mode)
    api.call("POST", path("reporter", "identity"), {"item": item, "identity_mode": args.identity_mode})
    console.say("Sent who you are, encrypted on this machine so that only the people handling your report can "
                "read it.")
    mailbox.log_out(api)
    return 0


def cmd_upload(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    if not args.file.is_file():
        raise trust.Refused(f"{args.file} is not a file. Nothing was sent.")
    opened = come_back(api, store, args, console, read_receipt(console))
    sent = files.upload(api, opened, args.file, say=console.say)
    console.say(f"Sent the file {sent.name} ({sent.size} bytes), encrypted on this machine: file {sent.id}.")
    mailbox.log_out(api)
    return 0


def cmd_download(api: Api, store: StateStore, args: argparse.Namespace, console: Console) -> int:
    if args.out.exists():
        raise trust.Refused(f"{args.out} exists already: choose another --out.")
    opened = come_back(api, store, args, console, read_receipt(console))
    try:
        listed = files.download(api, opened, args.id, args.out)
    except LookupError as error:
        raise trust.Refused(str(error)) from None
    except crypto.DecryptionFailed as error:
        raise trust.Refused(f"The file did not verify ({error}): nothing was saved.") from None
    console.say(f"Saved {listed.name} ({listed.size} bytes) as {args.out}.")
    mailbox.log_out(api)
    return 0


COMMANDS = {"channels": cmd_channels, "send": cmd_send, "read": cmd_read, "reply": cmd_reply,
            "identity": cmd_identity, "upload": cmd_upload, "download": cmd_download}


# --- helpers -------------------------------------------------------------------------------------

def come_back(api: Api, store: StateStore, args: argparse.Namespace, console: Console,
              receipt: str) -> mailbox.Opened:
    directory = any_directory(api, store, args, console)
    try:
        mailbox.log_in(api, receipt, directory)
    except ApiError as error:
        if error.status == 401:
            raise trust.Refused("The service does not know that receipt. Check it and try again.") from None
        raise
    return mailbox.open_case(api, receipt, directory)


def read_receipt(console: Console) -> str:
    """From the terminal without echo, or the first line of standard input."""
    if console.stdin.isatty():
        return getpass.getpass("Your receipt: ")
    line = console.stdin.readline()
    if not line.strip():
        raise trust.Refused("No receipt given: type it when asked, or give it as the first line of standard input.")
    return line.strip()


def read_text(source: str, console: Console, prompt: str) -> str:
    if source != "-":
        return Path(source).read_text(encoding="utf-8")
    if console.stdin.isatty():
        console.say(prompt)
    return console.stdin.read()


def indent(text: Any, by: int = 2) -> str:
    if text is None:
        return " " * by + "[this did not verify: it may have been changed on the server]"
    return "\n".join(" " * by + line for line in str(text).splitlines())


def who(author: str | None) -> str:
    if author is None:
        return "Unknown (written before authors were sealed)"
    return READERS.get(author, "The people handling your report")


if __name__ == "__main__":
    sys.exit(main())
