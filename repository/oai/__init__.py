"""OAI-PMH 2.0 data provider core: request parsing, errors, resumption tokens, response writing.

No Flask and no database here (as Flask's sans-IO rule): ``respond`` takes the request's argument
pairs, a ``Store`` that reads records, and the settings, and returns the response's bytes.
"""

from repository.oai.errors import OAIError
from repository.oai.settings import OAISettings
from repository.oai.store import Item, SetInfo, Store
from repository.oai.verbs import LIST_VERBS, refusal, respond

__all__ = ["LIST_VERBS", "Item", "OAIError", "OAISettings", "SetInfo", "Store", "refusal", "respond"]
