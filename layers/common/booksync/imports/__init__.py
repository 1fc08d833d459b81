"""Imports from the books (weekly auto-sync, POST /customers/import): the port, the service, the run model."""
