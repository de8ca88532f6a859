"""One module per section of MESH.md; each check raises Nonconformance naming the rule it saw broken."""
