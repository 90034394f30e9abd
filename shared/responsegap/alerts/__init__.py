"""Alert digests: what a brand's on-call person is told about overdue posts, and how it reaches them."""
