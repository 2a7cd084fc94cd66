"""The one route table, by area. Names are `area.action`; API routes start with `api.`."""
from whistle.cases.context import CaseContext

# A database id in a path: ASCII digits (\d takes every script's), at most 9 of them, so it always fits
# the INTEGER id columns, 32 bits on PostgreSQL (a longer one would be refused by the database as out of
# range instead of being simply not found).
ID = "{id:[0-9]{1,9}}"


def includeme(config) -> None:
    # --- public: the home page, static files; operations: health, readiness, metrics ---
    config.add_static_view("static", "whistle:static", cache_max_age=0, permission="public:view")
    config.add_route("home", "/")
    config.add_route("i18n.catalogue", "/i18n/catalogue.js")  # the browser modules' translations
    config.add_route("health", "/healthz")
    config.add_route("ready", "/readyz")
    config.add_route("metrics", "/metrics")

    # --- intake: the report form and its receipt page, and the API ---
    config.add_route("intake.form", "/report/{slug}")
    config.add_route("intake.receipt", "/report/{slug}/receipt")
    config.add_route("intake.receipt_leave", "/report/{slug}/receipt/leave")
    config.add_route("api.channels", "/api/v1/channels")
    config.add_route("api.channel_keys", "/api/v1/channels/{slug}/keys")
    config.add_route("api.disclosures", "/api/v1/disclosures")
    config.add_route("api.disclosures_challenge", "/api/v1/disclosures/challenge")

    # --- accounts: staff sign-in, and a staff member's own password, sessions and authenticator ---
    config.add_route("accounts.login", "/staff/login")
    config.add_route("accounts.logout", "/staff/logout")
    config.add_route("accounts.sessions", "/staff/sessions")
    config.add_route("accounts.password", "/staff/password")
    config.add_route("accounts.forgot", "/staff/forgot-password")
    config.add_route("accounts.authenticator", "/staff/reset-authenticator")
    config.add_route("accounts.failed_sign_ins", "/staff/failed-sign-ins")
    config.add_route("sessions.staff_keep_alive", "/staff/keep-alive")  # "Stay signed in" (whistle/sessions/views.py)
    config.add_route("api.staff_session", "/api/v1/staff/session")
    config.add_route("api.staff_sign_in_parameters", "/api/v1/staff/sign-in-parameters")
    config.add_route("api.staff_sessions", "/api/v1/staff/sessions")
    config.add_route("api.staff_password", "/api/v1/staff/password")
    config.add_route("api.staff_authenticator", "/api/v1/staff/authenticator")

    # --- notifications: where, and about what, a guardian is told ---
    config.add_route("accounts.notifications", "/staff/notifications")
    config.add_route("api.staff_notifications", "/api/v1/staff/notifications")

    # --- the guardian's workspace: the inbox, a case, what a guardian does to it, its files ---
    config.add_route("cases.inbox", "/staff/cases")
    # the cases that came in during one surge of reports, to close as junk together
    config.add_route("cases.surge", "/staff/surges/{day}")
    config.add_route("cases.surge_junk", "/staff/surges/{day}/junk")
    config.add_route("api.surge_junk", "/api/v1/surges/{day}/junk")
    config.add_route("cases.held", "/staff/held-cases")  # the references the device searches
    config.add_route("cases.show", "/staff/cases/{ref}", factory=CaseContext)
    config.add_route("api.cases", "/api/v1/cases")
    # Who was given access to the guardian's channels, by whom, when (the inbox shows the same).
    config.add_route("api.staffing_changes", "/api/v1/staffing-changes")
    config.add_route("api.case", "/api/v1/cases/{ref}", factory=CaseContext)
    for action in ("messages", "notes", "transitions", "triage", "grants", "transfer", "conflict"):
        config.add_route(f"cases.{action}", f"/staff/cases/{{ref}}/{action}", factory=CaseContext)
        config.add_route(f"api.case_{action}", f"/api/v1/cases/{{ref}}/{action}", factory=CaseContext)
    config.add_route("cases.erasures", "/staff/cases/{ref}/erasures", factory=CaseContext)
    config.add_route("api.case_erasures", "/api/v1/cases/{ref}/erasures", factory=CaseContext)
    config.add_route("cases.attachments", "/staff/cases/{ref}/attachments", factory=CaseContext)
    config.add_route("api.case_attachments", "/api/v1/cases/{ref}/attachments", factory=CaseContext)
    config.add_route("attachments.download", f"/staff/cases/{{ref}}/attachments/{ID}", factory=CaseContext)
    config.add_route("api.case_attachment", f"/api/v1/cases/{{ref}}/attachments/{ID}", factory=CaseContext)
    # The guardian's device (device mode): the case's envelopes, a file's ciphertext, its first-visit
    # binding and a client-made team key replaced.
    config.add_route("cases.envelopes", "/staff/cases/{ref}/envelopes", factory=CaseContext)
    config.add_route("api.case_envelopes", "/api/v1/cases/{ref}/envelopes", factory=CaseContext)
    config.add_route("attachments.blob", f"/staff/cases/{{ref}}/attachments/{ID}/blob", factory=CaseContext)
    config.add_route("cases.binding", "/staff/cases/{ref}/binding", factory=CaseContext)
    config.add_route("cases.team_key", "/staff/cases/{ref}/team-key", factory=CaseContext)
    # A case exported as a ZIP archive: built here (server-assisted), or recorded for the device that builds it.
    config.add_route("cases.export", "/staff/cases/{ref}/export", factory=CaseContext)
    config.add_route("cases.export_device", "/staff/cases/{ref}/export/device", factory=CaseContext)
    # Files a guardian's device encrypted, uploaded in chunks (cookie session; bearer under /api/v1/).
    for prefix, name in (("/staff/cases", "cases."), ("/api/v1/cases", "api.case_")):
        config.add_route(f"{name}uploads", f"{prefix}/{{ref}}/uploads", factory=CaseContext)
        config.add_route(f"{name}upload", f"{prefix}/{{ref}}/uploads/{{upload}}", factory=CaseContext)
        config.add_route(f"{name}upload_done", f"{prefix}/{{ref}}/uploads/{{upload}}/done", factory=CaseContext)
        config.add_route(f"{name}upload_chunk", f"{prefix}/{{ref}}/uploads/{{upload}}/{{index:[0-9]{{1,9}}}}",
                         factory=CaseContext)

    # Learning: the closing records of a guardian's closed cases, searched; the learning report;
    # the closing records' envelopes for a device to search (cookie session; bearer under /api/v1/).
    config.add_route("learning.search", "/staff/learning")
    config.add_route("learning.report", "/staff/learning/report")
    config.add_route("learning.outcomes", "/staff/learning/outcomes")
    config.add_route("api.learning_outcomes", "/api/v1/learning/outcomes")

    # --- the reporter's mailbox ---
    config.add_route("reporters.login", "/mailbox")
    config.add_route("reporters.case", "/mailbox/case")
    config.add_route("reporters.messages", "/mailbox/case/messages")
    config.add_route("reporters.identity", "/mailbox/case/identity")
    config.add_route("reporters.attachment", f"/mailbox/case/attachments/{ID}")
    config.add_route("reporters.leave", "/mailbox/leave")
    # Under /mailbox, where the reporter's cookie counts first (whistle/sessions/views.py).
    config.add_route("reporters.keep_alive", "/mailbox/keep-alive")
    config.add_route("reporters.exit", "/exit")
    config.add_route("reporters.channel_exit", "/exit/{slug}")
    config.add_route("api.reporter_session", "/api/v1/reporter/session")
    config.add_route("api.reporter_keep_alive", "/api/v1/reporter/session/keep-alive")
    config.add_route("api.reporter_case", "/api/v1/reporter/case")
    config.add_route("api.reporter_messages", "/api/v1/reporter/messages")
    config.add_route("api.reporter_attachments", "/api/v1/reporter/attachments")
    config.add_route("api.reporter_attachment", f"/api/v1/reporter/attachments/{ID}")
    config.add_route("api.reporter_attachment_blob", f"/api/v1/reporter/attachments/{ID}/blob")
    config.add_route("api.reporter_uploads", "/api/v1/reporter/uploads")
    config.add_route("api.reporter_upload", "/api/v1/reporter/uploads/{upload}")
    config.add_route("api.reporter_upload_done", "/api/v1/reporter/uploads/{upload}/done")
    config.add_route("api.reporter_upload_chunk", "/api/v1/reporter/uploads/{upload}/{index:[0-9]{1,9}}")
    config.add_route("api.reporter_envelopes", "/api/v1/reporter/envelopes")
    config.add_route("api.reporter_identity", "/api/v1/reporter/identity")
    # the reporter's say: withdrawing, "would you speak up again?", agreeing to be quoted on the board
    config.add_route("reporters.withdraw", "/mailbox/case/withdraw")
    config.add_route("api.reporter_withdrawal", "/api/v1/reporter/withdrawal")
    config.add_route("reporters.speak_up", "/mailbox/case/speak-up")
    config.add_route("api.reporter_speak_up", "/api/v1/reporter/speak-up")

    # --- retaliation watch: HR integrations' events, the guardian's protections, the reporter's check-ins ---
    config.add_route("api.personnel_events", "/api/v1/personnel-events")
    config.add_route("cases.protections", "/staff/cases/{ref}/protections", factory=CaseContext)
    config.add_route("cases.protection_alerts", "/staff/cases/{ref}/protection-alerts", factory=CaseContext)
    config.add_route("reporters.checkins", "/mailbox/case/checkins")
    config.add_route("reporters.protection_consent", "/mailbox/case/protection-consent")
    config.add_route("api.reporter_checkins", "/api/v1/reporter/checkins")
    config.add_route("api.reporter_protection_consent", "/api/v1/reporter/protection-consent")

    # --- records: legal hold on a case (retention and the purge run in the tick) ---
    config.add_route("cases.legal_hold", "/staff/cases/{ref}/legal-hold", factory=CaseContext)
    config.add_route("cases.legal_hold_lift", "/staff/cases/{ref}/legal-hold/lift", factory=CaseContext)
    config.add_route("api.case_legal_hold", "/api/v1/cases/{ref}/legal-hold", factory=CaseContext)
    # --- the "you said, we did" board: the public page, publishing from a case, the reporter's consent ---
    config.add_route("board.list", "/board")
    config.add_route("api.board", "/api/v1/board")
    config.add_route("board.publish", "/staff/cases/{ref}/board", factory=CaseContext)
    config.add_route("board.edit", f"/staff/cases/{{ref}}/board/{ID}", factory=CaseContext)
    config.add_route("board.unpublish", f"/staff/cases/{{ref}}/board/{ID}/unpublish", factory=CaseContext)
    config.add_route("api.case_board", "/api/v1/cases/{ref}/board", factory=CaseContext)
    config.add_route("api.case_board_entry", f"/api/v1/cases/{{ref}}/board/{ID}", factory=CaseContext)
    config.add_route("reporters.board_consent", "/mailbox/case/board-consent")
    config.add_route("api.reporter_board_consent", "/api/v1/reporter/board-consent")
    # --- statistics: a guardian's channels (the admin area's page is below) ---
    config.add_route("statistics.show", "/staff/statistics")
    config.add_route("statistics.show_csv", "/staff/statistics.csv")

    # --- the admin area: overview, accounts, channels, audit, statistics exports, the outbox ---
    config.add_route("admin.overview", "/admin")
    config.add_route("admin.guardians", "/admin/guardians")
    config.add_route("admin.guardian", f"/admin/guardians/{ID}")
    config.add_route("admin.channels", "/admin/channels")
    config.add_route("admin.audit", "/admin/audit")
    config.add_route("admin.statistics", "/admin/statistics")
    config.add_route("admin.statistics_csv", "/admin/statistics.csv")
    config.add_route("admin.statistics_export", "/admin/statistics/{name}")
    config.add_route("admin.notifications", "/admin/notifications")
    config.add_route("admin.notifications_retry", "/admin/notifications/retry")
    config.add_route("admin.proposals", "/admin/proposals")
    config.add_route("admin.proposal_decide", f"/admin/proposals/{ID}")
    config.add_route("api.admin_overview", "/api/v1/admin/overview")
    config.add_route("api.admin_audit", "/api/v1/admin/audit")
    config.add_route("api.admin_accounts", "/api/v1/admin/accounts")
    config.add_route("api.admin_account", f"/api/v1/admin/accounts/{ID}")
    config.add_route("api.admin_channels", "/api/v1/admin/channels")
