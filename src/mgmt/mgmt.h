/* The management CLI of a gatehouse hub: `gatehouse device|ca|twin|method|
 * c2d|telemetry|enrollment|registration ...` (docs/cli.md).
 *
 * Each command talks to the hub's HTTPS service API (docs/hub-rest.md) with
 * a service connection string, found (first match wins) in
 * --connection-string / --connection-string-file / --data-dir, then
 * $GATEHOUSE_CONNECTION_STRING, then the file the hub writes at start-up
 * (/var/lib/gatehouse/hub/service-connection-string). `enrollment` and
 * `registration` talk to the provisioning service (DPS) API on the hub's
 * DPS host name with the DPS service connection string
 * ($GATEHOUSE_DPS_CONNECTION_STRING, dps-service-connection-string).
 */
#ifndef GH_MGMT_MGMT_H
#define GH_MGMT_MGMT_H

/* Run `gatehouse <group> ...` where argv[0] is the group: "device", "ca",
 * "twin", "method", "c2d", "telemetry", "enrollment" or "registration".
 * Prints results to stdout (JSON with --json) and errors, with what to do
 * about them, to stderr. Returns the process exit status: 0 on success,
 * else gh_err_exit_status of the failure (2 usage, 3 connection string /
 * configuration, 4 I/O or hub unreachable, 6 protocol, 7 limit, 8
 * authorization or TLS verification, 9 not found, 10 conflict or etag
 * mismatch).
 * Not thread-safe: it reads the environment, ignores SIGPIPE for the
 * process and writes to stdio. */
int gh_mgmt_main(int argc, char **argv);

#endif
