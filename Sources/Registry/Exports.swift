// registries.conf, credentials and RegistryError live in RegistryConfig (a module without
// the HTTP client, so the parsers can be built and fuzzed alone); importers of Registry
// keep seeing them.
@_exported import RegistryConfig
