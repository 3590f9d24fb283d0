"""Google Calendar for an org (docs/calendar.md): events with a Meet link created once per
idempotency key, free slots inside the org's working hours, push channels kept alive, and an
incremental sync that turns changes into ``calendar.event.*`` bus events.

``models`` (what the functions take and answer), ``client`` (the calls this package makes of
the Google adapter), ``store`` (CalendarTable), ``events``, ``freebusy``, ``channels``,
``sync``, ``webhook`` (the push receiver), ``conference`` (the Meet link workflow's step).
"""
