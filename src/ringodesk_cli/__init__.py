"""ringodesk: Ringostat call logs into Zoho Desk."""

__version__ = "0.1.0.dev0"
