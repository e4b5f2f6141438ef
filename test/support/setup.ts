// Logs are asserted where they matter; elsewhere they would bury the test output.
process.env.PROVISIONER_LOG_LEVEL ??= 'SILENT';
