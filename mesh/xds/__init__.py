"""The xDS control plane: Consul's healthy instances served over ADS.

Envoy (the gateway) asks for clusters and endpoints (CDS/EDS); proxyless gRPC clients
(`xds:///video-query`) also ask for the listener and route of their target (LDS/RDS).
Run it with `python -m mesh.xds`; get a client channel with `mesh.xds.bootstrap.channel`.
"""
