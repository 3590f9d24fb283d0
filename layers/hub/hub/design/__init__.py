"""Design renders: Canva Connect (brand template autofill + export) with the org's HTML/CSS
templates as the fallback (docs/design.md)."""
