"""What every adapter is built from: the client, token providers, webhook helpers, descriptors."""
