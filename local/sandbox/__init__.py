"""Local provider sandboxes (QuickBooks today; Xero, FreshBooks, Wave plug in through ``app.PROVIDERS``)."""
