"""responsegap: how well a company answers its customers on social media."""

__version__ = "0.1.0"
