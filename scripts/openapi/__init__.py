"""`make codegen`, its OpenAPI part: the REST surface of protos/ as one OpenAPI 3 document
(gen/openapi/openapi.json, served by the gateway at /api/openapi.json) and the TypeScript
types the web app's client is built on (gen/openapi/api.d.ts). Generated, never committed.

    protoc + protoc-gen-openapiv2   the google.api.http rules -> Swagger 2.0   (build.py)
    swagger2openapi                 Swagger 2.0 -> OpenAPI 3.0                  (build.py)
    document.py, rules.py           validation rules, error body, auth, intro   (from the descriptors)
    openapi-typescript              OpenAPI 3.0 -> TypeScript types             (build.py)
"""
