"""customer-segmentation: customer data in, actionable customer segments out."""

__version__ = "0.1.0"
