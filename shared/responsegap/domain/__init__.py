"""The domain core: posts, matching, metrics, business hours. No I/O here."""
