"""PIX BR Codes as the payment sandboxes answer them (Asaas, PagBank, MercadoPago): EMV fields
and the CRC-16/CCITT-FALSE of field 63. Written independently of ``hub.payments.pix`` on
purpose: a fake provider must not share the code it is used to test."""

from __future__ import annotations


def crc16_ccitt(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), 4 uppercase hex digits."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def emv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def br_code(*, account: str, amount: str, txid: str, dynamic: bool, name: str = "Somos Produtora") -> str:
    """``account``: field 26's key (``01``, static) or location (``25``, dynamic) subfield,
    already EMV-encoded; ``amount``: reais with two decimals."""
    payload = (
        emv("00", "01")
        + (emv("01", "12") if dynamic else "")
        + emv("26", emv("00", "br.gov.bcb.pix") + account)
        + emv("52", "0000")
        + emv("53", "986")
        + emv("54", amount)
        + emv("58", "BR")
        + emv("59", name)
        + emv("60", "Sao Paulo")
        + emv("62", emv("05", txid[:25]))
        + "6304"
    )
    return payload + crc16_ccitt(payload.encode("ascii"))
