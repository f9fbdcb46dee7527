"""workbench: CRM analytics and campaign workbench for online shops."""

__version__ = "0.1.0"

