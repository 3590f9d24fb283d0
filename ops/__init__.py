"""Operator commands (replay archived webhooks, redrive DLQs). See ``python -m ops --help``.

``python -m ops`` runs from a checkout, where the hub's code is the Lambda layer's package
(``layers/hub/hub``) rather than an installed distribution: the layer directory is put on
``sys.path`` here, once, as Lambda puts a layer under /opt/python.
"""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "hub")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
