"""E-mail notifications: Italian templates, the SMTP/.eml senders and the outbox dispatcher.

* `notifications.render`   ONE Jinja2 environment; `render(template, payload, base_url=...) -> RenderedMail`.
* `notifications.sender`   `SmtpConfig`, `build_message`, `SmtpSender` (aiosmtplib), `EmlSender` (.eml files).
* `notifications.dispatch` `dispatch_outbox(engine, ...) -> DispatchResult`, `list_outbox`, `preview_outbox`.
* `notifications.outbox_sql` the outbox table's statements (claim, record per message, release, reclaim).
"""
