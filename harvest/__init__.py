"""OAI-PMH harvester: a robust client, incremental resumable runs, and a sink into this repository.

.. code-block:: python

    from harvest import Client
    client = Client("https://example.org/oai")
    for record in client.list_records(metadataPrefix="oai_dc", from_="2024-01-01"):
        print(record.identifier, record.deleted)
"""

from harvest.client import Client, RetryPolicy
from harvest.errors import HarvestError, OAIError, TokenLoop, TransportError
from harvest.pages import Page, Record

__all__ = ["Client", "HarvestError", "OAIError", "Page", "Record", "RetryPolicy", "TokenLoop", "TransportError"]
