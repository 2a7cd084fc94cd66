"""The statistics pages (admins: every channel; guardians: their own channels), their CSV, and the
statistics exports plugins offer. Metadata only: nothing here opens or decrypts a case."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from whistle.admin.services import build_export, recent_quarters, statistics_exports
from whistle.i18n import _, localized
from whistle.intake_channels.models import Channel
from whistle.security.permissions import Permission
from whistle.statistics import report, services
from whistle.statistics.services import Period

MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
LONGEST_PERIOD = 120  # months: ten years is more than any retention keeps
MONTH_ERROR = _("Enter a month as year and month, like 2026-04.")


@dataclass
class Filters:
    """What the GET form asked for, as typed, and what it means once checked."""

    typed: dict[str, str]
    period: Period
    channels: list[Channel]  # the ones counted
    offered: list[Channel]  # the ones this person may choose from
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The query string of what is shown (the defaults where a filter was refused), for the CSV link."""
        shown = {"from": f"{self.period.first:%Y-%m}", "to": f"{self.period.last:%Y-%m}"}
        if len(self.channels) == 1 and self.typed["channel"]:
            shown["channel"] = self.channels[0].slug
        return shown


def _month(text: str) -> date | None:
    found = MONTH.match(text.strip())
    # Years a case can have been opened in; far enough from 9999 that a month's end is a date.
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1900 <= int(found.group(1)) <= 9000:
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def read_filters(request, offered: list[Channel]) -> Filters:
    """The period (whole months, the last 12 by default) and the channel (all offered by default)
    from the query string; a faulty field is named in `errors` and the default used for it."""
    default = Period.last_months(request.clock.today())
    typed = {"from": request.GET.get("from", default.first.strftime("%Y-%m")),
             "to": request.GET.get("to", default.last.strftime("%Y-%m")),
             "channel": request.GET.get("channel", "")}
    errors = {}
    first, last = _month(typed["from"]), _month(typed["to"])
    if first is None:
        errors["from"] = MONTH_ERROR
    if last is None:
        errors["to"] = MONTH_ERROR
    if first and last and first > last:
        errors["to"] = _("Choose a month on or after the first month.")
    elif first and last and len(Period(first, last).months()) > LONGEST_PERIOD:
        errors["to"] = _("Choose a period of at most ${count} years.", mapping={"count": LONGEST_PERIOD // 12})
    period = Period(first, last) if first and last and not errors else default
    channels = offered
    if typed["channel"]:
        chosen = [channel for channel in offered if channel.slug == typed["channel"]]
        if chosen:
            channels = chosen
        else:
            errors["channel"] = _("Choose one of the channels listed.")
    # Plain text in the page's language: the form puts each together with its field's label.
    return Filters(typed, period, channels, offered, {name: localized(error) for name, error in errors.items()})


def _page(request, filters: Filters, *, route: str, exports: dict | None = None,
          export_errors: dict | None = None) -> dict:
    """The page of route `route` (its CSV is `route`_csv): the filters, the summary, the sections."""
    figures = services.for_people(services.statistics(request.dbsession, filters.period, filters.channels,
                                                      request.clock.today()))
    if filters.errors:
        request.response.status = 400
    return {"filters": filters, "summary": report.summary(figures), "sections": report.sections(figures,
                                                                                               filters.channels),
            "period_words": localized(_("${first} to ${last}", mapping={
                "first": report.month_words(filters.period.first), "last": report.month_words(filters.period.last)})),
            "csv_url": request.route_path(f"{route}_csv", _query=filters.query()), "exports": exports,
            "quarters": recent_quarters(request.clock.today()),
            "errors": {name: localized(error) for name, error in (export_errors or {}).items()},
            "form_action": request.route_path(route)}


def _csv(request, filters: Filters, name: str):
    figures = services.for_people(services.statistics(request.dbsession, filters.period, filters.channels,
                                                      request.clock.today()))
    request.audit("statistics.downloaded", detail={
        "from": filters.period.start.isoformat(), "to": filters.period.end.isoformat(),
        "channels": [channel.slug for channel in filters.channels]})
    response = request.response
    response.content_type = "text/csv"
    response.charset = "utf-8"
    response.body = services.as_csv(figures, filters.period, filters.channels)
    response.content_disposition = (f'attachment; filename="{name}-{filters.period.first:%Y-%m}-to-'
                                    f'{filters.period.last:%Y-%m}.csv"')
    return response


# --- admins: every channel, and the plugins' exports ---

ADMIN_TEMPLATE = "whistle:templates/statistics/admin.jinja2"


def _admin_filters(request) -> Filters:
    return read_filters(request, services.channels_for(request.dbsession))


def _admin_page(request, filters: Filters, *, export_errors=None) -> dict:
    return _page(request, filters, route="admin.statistics",
                 exports=statistics_exports(request.call_hook), export_errors=export_errors)


@view_config(route_name="admin.statistics", renderer=ADMIN_TEMPLATE, permission=Permission.ADMIN_VIEW)
def admin_statistics(request):
    return _admin_page(request, _admin_filters(request))


@view_config(route_name="admin.statistics_csv", renderer=ADMIN_TEMPLATE, permission=Permission.ADMIN_VIEW)
def admin_statistics_csv(request):
    filters = _admin_filters(request)
    if filters.errors:
        return _admin_page(request, filters)
    return _csv(request, filters, "statistics")


@view_config(route_name="admin.statistics_export", renderer=ADMIN_TEMPLATE, permission=Permission.ADMIN_VIEW)
def statistics_export(request):
    """Download one export for the chosen quarter (a metadata-only file), audited as "export"."""
    export = statistics_exports(request.call_hook).get(request.matchdict["name"])
    if export is None:
        raise HTTPNotFound()
    chosen = {start.isoformat(): (start, end) for start, end in recent_quarters(request.clock.today())}
    quarter = chosen.get(request.GET.get("quarter", ""))
    if quarter is None:
        page = _admin_page(request, _admin_filters(request),
                           export_errors={export.name: _("Choose one of the quarters listed.")})
        request.response.status = 422
        return page
    start, end = quarter
    if export.build_from_statistics is not None:
        # Quarters are whole months: the statistics of those months, every channel, suppressed.
        figures = services.statistics(request.dbsession, Period(start, end.replace(day=1)),
                                      services.channels_for(request.dbsession), request.clock.today())
        body = export.build_from_statistics(figures, start, end)
    else:
        body = build_export(request.dbsession, export, start, end)
    request.audit("export", detail={"export": export.name, "start": start.isoformat(), "end": end.isoformat()})
    response = request.response
    response.content_type = export.media_type
    response.body = body
    extension = "csv" if export.media_type == "text/csv" else "bin"
    response.content_disposition = f'attachment; filename="{export.name}-{start.isoformat()}.{extension}"'
    return response


# --- guardians: the channels they receive cases from ---

GUARDIAN_TEMPLATE = "whistle:templates/statistics/guardian.jinja2"


def _guardian_filters(request) -> Filters:
    return read_filters(request, services.channels_for(request.dbsession, request.identity.account))


@view_config(route_name="statistics.show", renderer=GUARDIAN_TEMPLATE, permission=Permission.STATISTICS_VIEW)
def guardian_statistics(request):
    return _page(request, _guardian_filters(request), route="statistics.show")


@view_config(route_name="statistics.show_csv", renderer=GUARDIAN_TEMPLATE, permission=Permission.STATISTICS_VIEW)
def guardian_statistics_csv(request):
    filters = _guardian_filters(request)
    if filters.errors:
        return _page(request, filters, route="statistics.show")
    return _csv(request, filters, "statistics")
