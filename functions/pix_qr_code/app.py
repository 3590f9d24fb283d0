"""PixQrCode — the PIX copy-and-paste and QR image of one of our charges.

Payload: {"org_id", "charge_id"}
Result:  {"payload" (BR Code), "encoded_image"? (PNG base64), "expiration_date"?}
"""

from hub.invocation import operation_handler
from hub.payments.operations import PixQrCodeRequest, pix_qr_code

handler = operation_handler("payments.pix_qr_code", PixQrCodeRequest, pix_qr_code)
