/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c - trackgate: the command line, EAL and port set-up, lcore launch,
 * and the ordered teardown (signal sets a flag; workers stop and flush; the
 * control thread publishes final counters; ports stop and close; audit log
 * drained; EAL cleaned up).
 *
 *   trackgate [EAL options] -- [--bpffs DIR] [--audit FILE] [--audit-level L] ...
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "audit.h"
#include "dp.h"
#include "early_cache.h"
#include "policy_swap.h"
#include "ports.h"
#include "reassembly.h"
#include "stats.h"
#include "worker.h"


static const char usage_text[] =
	"usage: trackgate [EAL options] -- [options]\n"
	"\n"
	"  --bpffs DIR           pinned policy maps (default " TG_DEFAULT_BPFFS ")\n"
	"  --audit FILE          audit log, one JSON line per decision ('-' = stdout)\n"
	"  --audit-level L       off | drops | all (default all)\n"
	"  --stats-interval MS   how often counters reach the stats map (default 500)\n"
	"  --frag-timeout MS     reassembly timeout (default 2000)\n"
	"  --frag-flows N        reassembly table size per worker (default 4096)\n"
	"  --rxd N, --txd N      descriptors per queue (default 1024)\n"
	"  --tx-drain-us US      send buffered releases once the oldest has been in the\n"
	"                        guard this long, not only at the end of the RX burst\n"
	"                        (default 10; 0: after every message)\n"
	"  --stage-cycles        count TSC cycles per pipeline stage (benchmarks)\n"
	"  --no-second-check     do not re-derive releasability independently before TX\n"
	"                        (on by default; AC-4(27) redundancy)\n"
	"  --exit-when-idle MS   exit once no packet arrived for MS (pcap replays)\n"
	"  -h, --help            this text\n"
	"\n"
	"Ports are all DPDK devices given to the EAL (-a PCI, --vdev net_pcap0,...); the\n"
	"policy names them.  Load a policy with `tgctl load`.\n";

/* `trackgate --help` reaches the EAL first, which prints its own options and
 * exits: this hook adds trackgate's after them.  `trackgate -- --help` prints
 * only trackgate's, before the EAL is started (it needs no hugepages). */
static void
usage_hook(const char *prgname)
{
	(void)prgname;
	fputs(usage_text, stdout);
}

static bool
help_after_dashes(int argc, char **argv)
{
	int i = 1;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	for (i++; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

static void
on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&dp_quit, true, __ATOMIC_RELAXED);
}

/* SIGHUP: reopen the audit log (logrotate); the writer does it between records. */
static void
on_hup(int sig)
{
	(void)sig;
	dp_audit_request_reopen();
}

static int
parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "trackgate: %s wants a number from %u to %u, not '%s'\n", opt, min,
			max, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bpffs", required_argument, NULL, 'b'},
		{"audit", required_argument, NULL, 'a'},
		{"audit-level", required_argument, NULL, 'L'},
		{"stats-interval", required_argument, NULL, 's'},
		{"frag-timeout", required_argument, NULL, 'f'},
		{"frag-flows", required_argument, NULL, 'F'},
		{"rxd", required_argument, NULL, 'r'},
		{"txd", required_argument, NULL, 't'},
		{"tx-drain-us", required_argument, NULL, 'D'},
		{"stage-cycles", no_argument, NULL, 'c'},
		{"no-second-check", no_argument, NULL, 'n'},
		{"exit-when-idle", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': dp_cfg.bpffs = optarg; break;
		case 'a': dp_cfg.audit_path = optarg; break;
		case 'L':
			if (strcmp(optarg, "off") == 0)
				dp_cfg.audit_level = DP_AUDIT_OFF;
			else if (strcmp(optarg, "drops") == 0)
				dp_cfg.audit_level = DP_AUDIT_DROPS;
			else if (strcmp(optarg, "all") == 0)
				dp_cfg.audit_level = DP_AUDIT_ALL;
			else {
				fprintf(stderr, "trackgate: --audit-level is off, drops or all\n");
				return -1;
			}
			break;
		case 's':
			if (parse_uint("--stats-interval", optarg, 10, 60000,
				       &dp_cfg.stats_interval_ms) < 0)
				return -1;
			break;
		case 'f':
			if (parse_uint("--frag-timeout", optarg, 1, 60000, &dp_cfg.frag_timeout_ms) < 0)
				return -1;
			break;
		case 'F':
			if (parse_uint("--frag-flows", optarg, 16, 1u << 20, &dp_cfg.frag_max_flows) < 0)
				return -1;
			break;
		case 'r':
			if (parse_uint("--rxd", optarg, 64, 16384, &dp_cfg.nb_rxd) < 0)
				return -1;
			break;
		case 't':
			if (parse_uint("--txd", optarg, 64, 16384, &dp_cfg.nb_txd) < 0)
				return -1;
			break;
		case 'D':
			if (parse_uint("--tx-drain-us", optarg, 0, 1000000, &dp_cfg.tx_drain_us) < 0)
				return -1;
			break;
		case 'c': dp_cfg.stage_cycles = true; break;
		case 'n': dp_cfg.second_check = false; break;
		case 'i':
			if (parse_uint("--exit-when-idle", optarg, 1, 3600000, &dp_cfg.idle_exit_ms) < 0)
				return -1;
			dp_cfg.exit_when_idle = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "trackgate: unexpected argument '%s'\n%s", argv[optind], usage_text);
		return -1;
	}
	return 0;
}

static int
workers_create(void)
{
	unsigned lcore;
	unsigned n = 0;

	/* Workers on every worker lcore; on a single lcore, the main one works. */
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n == DP_MAX_WORKERS)
			break;
		dp_workers[n] = rte_zmalloc_socket("tg_worker", sizeof(struct dp_worker),
						   RTE_CACHE_LINE_SIZE, (int)rte_lcore_to_socket_id(lcore));
		if (dp_workers[n] == NULL)
			return -1;
		dp_workers[n]->lcore_id = lcore;
		dp_workers[n]->idx = n;
		n++;
	}
	if (n == 0) {
		dp_workers[0] = rte_zmalloc("tg_worker", sizeof(struct dp_worker), RTE_CACHE_LINE_SIZE);
		if (dp_workers[0] == NULL)
			return -1;
		dp_workers[0]->lcore_id = rte_get_main_lcore();
		n = 1;
	}
	dp_n_workers = n;
	return 0;
}

/* Each worker's own reassembly table and marking cache. */
static int
worker_tables_create(void)
{
	uint64_t cycles = (rte_get_tsc_hz() + 999) / 1000 * dp_cfg.frag_timeout_ms;

	for (unsigned i = 0; i < dp_n_workers; i++) {
		struct dp_worker *w = dp_workers[i];
		char name[RTE_HASH_NAMESIZE];

		if (dp_reasm_create(w, dp_cfg.frag_max_flows, cycles,
				    (int)rte_lcore_to_socket_id(w->lcore_id)) < 0) {
			RTE_LOG(ERR, USER1, "cannot create reassembly table of %u flows: %s\n",
				dp_cfg.frag_max_flows, rte_strerror(rte_errno));
			return -1;
		}
		snprintf(name, sizeof(name), "tg_mkc_%u", w->idx);
		w->mk_cache = mk_cache_create(name, DP_MK_CACHE_ENTRIES,
					      (int)rte_lcore_to_socket_id(w->lcore_id));
		if (w->mk_cache == NULL) {
			RTE_LOG(ERR, USER1, "cannot create the marking cache of worker %u: %s\n",
				w->idx, rte_strerror(rte_errno));
			return -1;
		}
		snprintf(name, sizeof(name), "tg_ec_%u", w->idx);
		w->early_cache = early_cache_create(name, DP_EARLY_CACHE_ENTRIES,
						    (int)rte_lcore_to_socket_id(w->lcore_id));
		if (w->early_cache == NULL) {
			RTE_LOG(ERR, USER1, "cannot create the early-scope cache of worker %u: %s\n",
				w->idx, rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

static int
qsbr_create(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp_n_workers);

	dp_qsbr = rte_zmalloc("tg_qsbr", sz, RTE_CACHE_LINE_SIZE);
	return dp_qsbr && rte_rcu_qsbr_init(dp_qsbr, dp_n_workers) == 0 ? 0 : -1;
}

/* The pcap-replay exit: every worker idle for idle_exit_ms. */
static bool
all_idle(uint64_t start_tsc)
{
	uint64_t now = rte_rdtsc();
	uint64_t idle = rte_get_tsc_hz() / 1000 * dp_cfg.idle_exit_ms;

	for (unsigned i = 0; i < dp_n_workers; i++) {
		uint64_t last = dp_workers[i]->last_rx_tsc ? dp_workers[i]->last_rx_tsc : start_tsc;

		if (now - last < idle)
			return false;
	}
	return true;
}

static void *
idle_watch(void *arg)
{
	uint64_t start = *(uint64_t *)arg;
	struct timespec tick = {0, 20 * 1000000};

	while (!__atomic_load_n(&dp_quit, __ATOMIC_RELAXED)) {
		if (all_idle(start))
			__atomic_store_n(&dp_quit, true, __ATOMIC_RELAXED);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* The main lcore has nothing to poll once the workers run: it sleeps until
 * told to stop (workers leave their loop only then), then collects them.
 * rte_eal_mp_wait_lcore() alone would spin its CPU, which the control and
 * audit threads, and with --lcores a worker, share. */
static void
main_lcore_wait(void)
{
	struct timespec tick = {0, 10 * 1000000};

	while (!__atomic_load_n(&dp_quit, __ATOMIC_RELAXED))
		nanosleep(&tick, NULL);
	rte_eal_mp_wait_lcore();
}

/* After ports are closed and reassembly tables destroyed, every mbuf must
 * be back in its pool: anything else is a leak, and trackgate says so. */
static int
mempools_check(void)
{
	struct rte_mempool *pools[] = {dp_pool_rx,	 dp_pool_hdr,  dp_pool_indirect,
				       dp_pool_linear, dp_pool_copy};
	int leaks = 0;

	/* DPDK 22.11's net_af_xdp fills its kernel fill ring with 2048 buffers
	 * per RX queue from our pool and does not return them on close: those,
	 * and only those, are not ours to account for. */
	unsigned pmd_held = 0;

	for (unsigned i = 0; i < dp_n_ports; i++)
		if (strncmp(dp_ports[i].dev, "net_af_xdp", 10) == 0)
			pmd_held += 2048u * dp_ports[i].nb_rxq;
	for (unsigned i = 0; i < RTE_DIM(pools); i++) {
		unsigned n;

		if (pools[i] == NULL)
			continue;
		n = rte_mempool_in_use_count(pools[i]);
		printf("trackgate: mempool %-10s %u of %u in use at exit\n", pools[i]->name, n,
		       pools[i]->size);
		if (pools[i] == dp_pool_rx && pmd_held && n <= pmd_held) {
			if (n)
				printf("trackgate: (%u of them kept by net_af_xdp's fill rings: "
				       "DPDK 22.11 does not return them on close)\n", n);
			continue;
		}
		if (n != 0) {
			fprintf(stderr, "trackgate: LEAK: %u mbufs of %s never came back\n", n,
				pools[i]->name);
			leaks++;
		}
	}
	return leaks ? -1 : 0;
}

int
main(int argc, char **argv)
{
	int eal_args;
	uint64_t start_tsc;
	pthread_t idle_thread;
	bool idle_started = false;
	int rc = 1;

	if (help_after_dashes(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	rte_set_application_usage_hook(usage_hook);
	eal_args = rte_eal_init(argc, argv);
	if (eal_args < 0) {
		fprintf(stderr, "trackgate: cannot initialise the EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= eal_args;
	argv += eal_args;
	if (parse_args(argc, argv) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	dp_lat_cycles_per_bucket = RTE_MAX(rte_get_tsc_hz() / (1000000000ull / DP_LAT_BUCKET_NS), 1ull);
	dp_tx_drain_cycles = rte_get_tsc_hz() / 1000000ull * dp_cfg.tx_drain_us;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);

	if (workers_create() < 0 || qsbr_create() < 0) {
		RTE_LOG(ERR, USER1, "out of memory for %u workers\n", rte_lcore_count());
		goto out;
	}
	if (dp_ports_init(dp_n_workers) < 0 || worker_tables_create() < 0)
		goto out_ports;
	dp_ports_assign_rxq();
	dp_stats_init();
	if (dp_telemetry_init() < 0)
		RTE_LOG(WARNING, USER1, "telemetry command not registered\n");
	if (rte_pdump_init() < 0)
		RTE_LOG(WARNING, USER1, "pdump not initialised: dpdk-dumpcap will not attach\n");
	if (dp_audit_start() < 0 || dp_control_start() < 0)
		goto out_ports;

	RTE_LOG(INFO, USER1, "trackgate: %u worker(s), %u port(s), policy maps in %s\n",
		dp_n_workers, dp_n_ports, dp_cfg.bpffs);
	start_tsc = rte_rdtsc();
	if (dp_cfg.exit_when_idle)
		idle_started = pthread_create(&idle_thread, NULL, idle_watch, &start_tsc) == 0;

	if (rte_lcore_count() > 1) {
		for (unsigned i = 0; i < dp_n_workers; i++)
			rte_eal_remote_launch(dp_worker_main, dp_workers[i], dp_workers[i]->lcore_id);
		main_lcore_wait();
	} else {
		dp_worker_main(dp_workers[0]);
	}
	if (idle_started)
		pthread_join(idle_thread, NULL);
	rc = 0;

	dp_ports_stop();
	/* Datagrams still waiting for fragments are counted (frag_unfinished)
	 * before the final counters are published. */
	for (unsigned i = 0; i < dp_n_workers; i++)
		dp_reasm_destroy(dp_workers[i]);
	dp_control_stop(); /* final counters into the stats map */
	dp_stats_print(stdout);
	dp_audit_stop();
out_ports:
	dp_ports_close();
	for (unsigned i = 0; i < dp_n_workers; i++) {
		if (dp_workers[i]) {
			dp_reasm_destroy(dp_workers[i]);
			mk_cache_free(dp_workers[i]->mk_cache);
			early_cache_free(dp_workers[i]->early_cache);
		}
		rte_free(dp_workers[i]);
	}
	rte_pdump_uninit();
	if (rc == 0 && mempools_check() < 0)
		rc = 3;
out:
	rte_free(dp_qsbr);
	rte_eal_cleanup();
	return rc;
}
