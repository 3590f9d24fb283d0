"""NfseCancel — cancel a charge's NFS-e with a justification (a refund starts it too).

Payload: {"org_id", "charge_id", "justification"? (15-255 characters)}
Result:  {"charge_id", "status": "cancelada"|"pendente"|"rejeitada", "reasons"}
"""

from hub.fiscal.invoicing import CancelRequest, cancel_invoice
from hub.invocation import operation_handler

handler = operation_handler("nfse.cancel", CancelRequest, cancel_invoice)
