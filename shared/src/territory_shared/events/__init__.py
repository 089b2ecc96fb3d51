from territory_shared.events.contracts import CONTRACTS, EventContract, contract_for
from territory_shared.events.envelope import CloudEvent, new_event

__all__ = ["CONTRACTS", "CloudEvent", "EventContract", "contract_for", "new_event"]
