"""WebhookGoogleCalendar — POST /webhooks/google_calendar/{org_id}: push notifications verified
against the stored channel (token, constant time; resource id), archived, deduped, one sync
enqueued (hub.calendar.webhook)."""

from hub.calendar.webhook import google_calendar_handler

handler = google_calendar_handler()
