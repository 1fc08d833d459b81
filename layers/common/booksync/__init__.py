"""booksync: the shared layer of BlueClerk accounting sync (engine, data, provider clients)."""
