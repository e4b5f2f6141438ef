// Logs are asserted where they matter; elsewhere they would bury the test output.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
