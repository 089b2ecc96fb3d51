"""The owning services' HTTP APIs, as metrics-service reads them: ports and their httpx adapters.

metrics-service never reads another service's tables; what events do not carry (a layer's units and
geometry, an alignment's memberships after a copy) it asks geo-service for, and the consistency check asks
assignment-service who owns what, over HTTP.
"""
