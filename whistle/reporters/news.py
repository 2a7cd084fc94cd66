"""What changed since the reporter's last visit, and when to come back.

The reporter has no contact details, so nobody can tell them that something happened: their
mailbox says it instead when they come back with the receipt. Everything here is worked out from
dates and ids the server has anyway; nothing is stored but the day of the visit and the status
they saw (see read_mailbox). A channel that asks for plain words (wording.plain) gets them here
too: its reporters sent a "message" to "the people helping you".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from pyramid.i18n import TranslationString
from sqlalchemy.orm import Session

from whistle.cases.lifecycle import ACKNOWLEDGED, ASSESSING, INVESTIGATING, RECEIVED
from whistle.cases.models import Case
from whistle.deadlines import add_months
from whistle.i18n import _, localized, plural
from whistle.intake_channels.services import checkin_months_for
from whistle.protection.services import CheckInState, checkins
from whistle.reporters.services import Mailbox
from whistle.settings import Settings
from whistle.words import day_words

WEEK = timedelta(days=7)
DAY = timedelta(days=1)
IN_PROGRESS = (ACKNOWLEDGED, ASSESSING, INVESTIGATING)
ANY_TIME = _("Nothing more is expected, but you can come back any time.")
# (the usual words, the plain words)
WITHDRAWN_CHECK_BACK = (_("You withdrew this report, so nothing more is expected. You can read it here until it "
                          "is deleted."), _("You stopped this, so nothing more will happen here."))
# The headline, (when something is new, when nothing is), for each point the news counts from, in
# the usual words and the plain ones: whole sentences, because languages put them together differently.
SENT_ON = ((_("Since you sent your report on ${day}:"), _("Nothing new since you sent your report on ${day}.")),
           (_("Since you sent your message on ${day}:"), _("Nothing new since you sent your message on ${day}.")))
SENT = ((_("Since you sent your report:"), _("Nothing new since you sent your report.")),
        (_("Since you sent your message:"), _("Nothing new since you sent your message.")))
LAST_VISIT = (_("Since your last visit:"), _("Nothing new since your last visit."))
LAST_VISIT_TODAY = (_("Since your last visit earlier today:"), _("Nothing new since your last visit earlier today."))
LAST_VISIT_ON = (_("Since your last visit on ${day}:"), _("Nothing new since your last visit on ${day}."))
SHOULD_REPLY = (_("The people handling your report should reply by ${day}."),
                _("The people helping you should reply by ${day}."))
SHOULD_HAVE_REPLIED = (_("The people handling your report should have replied by ${day}."),
                       _("The people helping you should have replied by ${day}."))
WORKING_ON_IT = (_("The people handling your report are working on it."),
                 _("The people helping you are working on it."))
SORRY = _("Sorry that it is taking longer.")


def _filled(message: TranslationString, **mapping) -> TranslationString:
    """A marked message with its ${name} markers' values, still to be translated when shown."""
    return TranslationString(message, mapping=mapping)


@dataclass(frozen=True)
class CheckBack:
    """When to come back: `on` is a day (None: nothing is expected), `sentences` say it in plain
    words (marked, so they are shown in the language of the page, or of the API address)."""

    on: date | None
    sentences: tuple[TranslationString, ...]

    @property
    def text(self) -> str:
        return " ".join(localized(sentence) for sentence in self.sentences)


@dataclass(frozen=True)
class News:
    first_visit: bool  # the first time the receipt opens the mailbox: news is since the report was sent
    since: date | None  # the last visit's day (the day the report was sent, on a first visit); None: unknown
    today: date
    new_messages: int  # from the people handling the report
    new_files: int  # from the people handling the report
    status_changed: bool
    status: str
    status_words: str
    new_questions: tuple[int, ...]  # check-in months whose question came due since `since`
    questions_waiting: tuple[int, ...]  # every check-in due and unanswered, new or not
    check_back: CheckBack
    plain: bool = False  # the channel asks for plain words

    @property
    def anything_new(self) -> bool:
        return bool(self.new_messages or self.new_files or self.status_changed or self.new_questions)

    @property
    def headline(self) -> TranslationString:
        nothing_new = not self.anything_new
        if self.first_visit:
            if self.since:
                return _filled(SENT_ON[self.plain][nothing_new], day=day_words(self.since))
            return SENT[self.plain][nothing_new]
        if self.since is None:
            return LAST_VISIT[nothing_new]
        if self.since == self.today:
            return LAST_VISIT_TODAY[nothing_new]
        return _filled(LAST_VISIT_ON[nothing_new], day=day_words(self.since))

    @property
    def lines(self) -> list:
        """What is new, one plain sentence each (empty when nothing is)."""
        lines: list = []
        if self.new_messages:
            lines.append(plural("${count} new message from the people helping you.",
                                "${count} new messages from the people helping you.", self.new_messages)
                         if self.plain else
                         plural("${count} new message from the people handling your report.",
                                "${count} new messages from the people handling your report.", self.new_messages))
        if self.new_files:
            lines.append(plural("${count} new file from the people helping you.",
                                "${count} new files from the people helping you.", self.new_files)
                         if self.plain else
                         plural("${count} new file from the people handling your report.",
                                "${count} new files from the people handling your report.", self.new_files))
        if self.status_changed:
            lines.append(_("Where things are has changed. ${status}", mapping={"status": self.status_words}))
        if self.new_questions:
            lines.append(_("There is a new question for you below."))
        return lines

    @property
    def still_waiting(self) -> bool:
        """A question seen before and not answered yet."""
        return bool(self.questions_waiting) and not self.new_questions

    def as_json(self) -> dict:
        """The news for the API. Its sentences are prose for the reporter, so unlike the rest of the
        API they are in the language of the address: /cy/api/v1/reporter/envelopes answers them in
        Welsh for the mailbox on a Welsh page; without a prefix, in English."""
        return {
            "first_visit": self.first_visit,
            "since": self.since,
            "new_messages": self.new_messages,
            "new_files": self.new_files,
            "status_changed": self.status_changed,
            "status": self.status,
            "status_text": localized(self.status_words),
            "new_questions": list(self.new_questions),
            "summary": [localized(line) for line in (self.headline, *self.lines)],
            "check_back": {"on": self.check_back.on, "text": self.check_back.text},
        }


def next_checkin(case: Case, state: CheckInState, checkin_months: Iterable[int], today: date) -> date | None:
    """The day of the next check-in question still to come (not answered, not yet due), if any."""
    answered = {row.due_month for row in state.answered}
    days = [add_months(case.opened_on, m) for m in checkin_months if m not in answered]
    later = [day for day in days if day > today]
    return min(later) if later else None


def check_back(case: Case, today: date, *, next_checkin_on: date | None, plain: bool = False) -> CheckBack:
    """When the reporter should come back, always a day after today at the earliest."""
    plain = bool(plain)
    if case.withdrawn_on is not None:
        return CheckBack(None, (WITHDRAWN_CHECK_BACK[plain],))
    if case.status == RECEIVED:
        on = max(case.ack_due, today + DAY)
        due = ((_filled(SHOULD_REPLY[plain], day=day_words(case.ack_due)),)
               if case.ack_due >= today else
               (_filled(SHOULD_HAVE_REPLIED[plain], day=day_words(case.ack_due)), SORRY))
        return CheckBack(on, (*due, _please(on, case.ack_due)))
    if case.status in IN_PROGRESS:
        on = max(min(today + WEEK, case.feedback_due), today + DAY)
        day = day_words(case.feedback_due)
        due = ((_("They should tell you what they have done by ${day}.", mapping={"day": day}),)
               if case.feedback_due >= today else
               (_("They should have told you what they have done by ${day}.", mapping={"day": day}), SORRY))
        return CheckBack(on, (WORKING_ON_IT[plain], *due, _please(on, case.feedback_due)))
    # Feedback given or closed (and anything unknown): only the check-in questions are still to come.
    if next_checkin_on is not None:
        return CheckBack(next_checkin_on, (
            _("On ${day} there will be a short question for you here, about how things are going for you.",
              mapping={"day": day_words(next_checkin_on)}),
            _("Please check back then.")))
    return CheckBack(None, (ANY_TIME,))


def _please(on: date, due: date) -> TranslationString:
    return (_("Please check back then.") if on == due
            else _("Please check back on ${day}.", mapping={"day": day_words(on)}))


def news_for(mailbox: Mailbox, *, today: date, checkin_state: CheckInState,
             checkin_months: Iterable[int]) -> News:
    """What changed for the reporter of `mailbox.case` since their last visit (read_mailbox keeps
    what they had seen before it marked everything seen)."""
    case = mailbox.case
    since = case.opened_on if mailbox.first_visit else mailbox.last_visit_on
    # On a first visit the reporter last saw the case as they sent it: just received.
    seen_status = RECEIVED if mailbox.first_visit else mailbox.last_seen_status
    # A withdrawn report, or one closed as junk, asks nothing more of its reporter: no check-in question is waiting.
    due = () if case.withdrawn_on is not None or case.junk_reason is not None else checkin_state.due
    # A question counts as new if its day came after the last visit; when that day is not known,
    # every waiting question does.
    new_questions = tuple(m for m in due if since is None or add_months(case.opened_on, m) > since)
    plain = bool((case.channel.wording or {}).get("plain"))
    return News(
        first_visit=mailbox.first_visit,
        since=since,
        today=today,
        new_messages=len(mailbox.new_item_ids),
        new_files=len(mailbox.new_file_ids),
        status_changed=seen_status is not None and seen_status != case.status,
        status=case.status,
        status_words=mailbox.status_words,
        new_questions=new_questions,
        questions_waiting=tuple(due),
        check_back=check_back(case, today, next_checkin_on=next_checkin(case, checkin_state, checkin_months, today),
                              plain=plain),
        plain=plain,
    )


def visit_news(dbsession: Session, settings: Settings, mailbox: Mailbox, today: date, *,
               checkin_state: CheckInState | None = None) -> News:
    """news_for with the check-ins read from the database (or `checkin_state`, when the caller has
    read them already): what the mailbox page and API show."""
    state = checkin_state if checkin_state is not None else checkins(dbsession, settings, mailbox.case, today)
    months = checkin_months_for(settings, mailbox.case.channel.reporters_are_staff)
    return news_for(mailbox, today=today, checkin_state=state, checkin_months=months)
