"""Traffic policy: what Consul's config entries (and the fault keys in its KV store) say about
where a service's calls go, how long they may take, which are retried and which fail on purpose.

`entries` reads the entries into one `ServicePolicy` per service (refusing, with a reason,
anything it cannot translate faithfully), `subsets` is the part of Consul's filter language a
subset may use, `methods` says which RPCs are safe to retry, and `canary` writes the entries
that `make canary` and `make canary-rollback` stand for. mesh/xds turns policies into xDS.
"""
