"""booksync: the shared layer of BlueClerk accounting sync (engine, data, provider clients)."""

from booksync.lazy_packages import slim_powertools

slim_powertools()
