// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-convert: a container image (OCI image layout, docker-archive
 * tarball or layer tarballs) becomes an OCI image layout of EROFS images.
 * Options only; the work is erofs_convert() in liberofs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "erofs/convert.h"
#include "erofs/options.h"
#include "erofs/util.h"
#include "progs/signals.h"

enum {
	OPT_LAYERS = 256,
	OPT_PLATFORM,
	OPT_TAG,
	OPT_NO_MERGE,
	OPT_CHUNKSIZE,
	OPT_FSID,
	OPT_DOMAIN_ID,
	OPT_QUIET,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
    {"layers", no_argument, NULL, OPT_LAYERS},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"tag", required_argument, NULL, OPT_TAG},
    {"no-merge", no_argument, NULL, OPT_NO_MERGE},
    {"chunksize", required_argument, NULL, OPT_CHUNKSIZE},
    {"fsid", required_argument, NULL, OPT_FSID},
    {"domain-id", required_argument, NULL, OPT_DOMAIN_ID},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fputs(
	    "Usage: erofs-convert [OPTIONS] SOURCE OUTDIR\n"
	    "       erofs-convert [OPTIONS] --layers LAYER... OUTDIR\n"
	    "Convert a container image into an OCI image layout of EROFS\n"
	    "images: one merged bootstrap and one chunk blob per layer, or\n"
	    "with --no-merge one standalone EROFS image per layer.\n\n"
	    "SOURCE: an OCI image layout (DIR or oci:DIR[:REF]) or a\n"
	    "docker-archive tarball (FILE or docker-archive:FILE[:REF]).\n\n"
	    "      --layers          the arguments before OUTDIR are layer\n"
	    "                        tarballs (any compression), bottom first\n"
	    "      --platform=OS/ARCH[/VARIANT]  pick from an image index\n"
	    "                        (default: this machine's)\n"
	    "      --tag=NAME        the output's ref name (default: the\n"
	    "                        source's, else \"latest\")\n"
	    "      --no-merge        one standalone image per layer with\n"
	    "                        overlayfs whiteouts (media type\n"
	    "                        " EROFS_MT_LAYER ")\n"
	    "      --chunksize=SIZE  chunk size (default 1M merged, flat "
	    "files\n"
	    "                        with --no-merge)\n"
	    "  -b SIZE               block size (default 4096)\n"
	    "      --fsid=NAME       the fsid the image is mounted with\n"
	    "      --domain-id=NAME  its shared domain\n"
	    "      --json            print a JSON summary on stdout\n"
	    "      --quiet           print nothing but errors\n"
	    "  -d LEVEL              message level 0..3 (default 1)\n"
	    "      --help            show this help\n"
	    "      --version         show the version\n"
	    "Environment: SOURCE_DATE_EPOCH sets the images' build time\n"
	    "(default: the config's \"created\").\n",
	    out);
}

struct progress {
	bool on;
	struct timespec start, last;
	unsigned int width;
};

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static void show_progress(void *arg, const struct erofs_convert_progress *p)
{
	struct progress *pr = arg;
	struct timespec now;
	double t;
	int n;

	if (!pr->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!p->done && secs(&pr->last, &now) < 0.25)
		return;
	pr->last = now;
	t = secs(&pr->start, &now);
	n = fprintf(
	    stderr,
	    "\rlayer %u/%u: %" PRIu64 " entries, %.1f MiB read, %.1f MiB/s%*s",
	    p->layer, p->nr_layers, p->entries, p->bytes_tar / 1048576.0,
	    t > 0 ? p->bytes_tar / 1048576.0 / t : 0.0, 2, "");
	if (n > 0)
		pr->width = n;
	if (p->done)
		fprintf(stderr, "\r%*s\r", (int)pr->width, "");
}

/* the temporary layout directory, removed when a signal ends the run */
static struct erofs_tmpnames tmpnames;

int main(int argc, char **argv)
{
	struct erofs_convert_opts o;
	struct erofs_convert_result res;
	struct erofs_log log;
	struct progress pr = {0};
	bool layers = false, quiet = false, json = false;
	uint64_t v;
	int c, err;

	erofs_log_init(&log, "erofs-convert");
	erofs_convert_opts_init(&o);
	while ((c = getopt_long(argc, argv, "b:d:", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LAYERS:
			layers = true;
			break;
		case OPT_PLATFORM:
			o.platform = optarg;
			break;
		case OPT_TAG:
			if (!*optarg)
				return erofs_opt_bad(&log, "--tag", optarg);
			o.tag = optarg;
			break;
		case OPT_NO_MERGE:
			o.no_merge = true;
			break;
		case OPT_CHUNKSIZE:
			if (erofs_opt_pow2(optarg, 4096, UINT64_MAX, &v))
				return erofs_opt_bad(&log, "--chunksize",
						     optarg);
			o.chunksize = v;
			break;
		case 'b':
			if (erofs_opt_pow2(optarg, 512, 65536, &v))
				return erofs_opt_bad(&log, "-b", optarg);
			o.blkszbits = erofs_ilog2(v);
			break;
		case OPT_FSID:
			o.fsid = optarg;
			break;
		case OPT_DOMAIN_ID:
			o.domain_id = optarg;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'd':
			if (erofs_opt_log_level(&log, "-d", optarg, 3))
				return EROFS_EXIT_USAGE;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("erofs-convert (%s) %s\n", PACKAGE_NAME,
			       PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EROFS_EXIT_USAGE;
		}
	}
	if (layers ? argc - optind < 2 : argc - optind != 2) {
		usage(stderr);
		return EROFS_EXIT_USAGE;
	}
	if (quiet)
		log.level = EROFS_LOG_ERR;
	if (layers) {
		o.layers = (const char *const *)&argv[optind];
		o.nr_layers = argc - optind - 1;
	} else {
		o.source = argv[optind];
	}
	o.outdir = argv[argc - 1];
	if (erofs_opt_epoch(&log, &o.have_epoch, &o.epoch))
		return EROFS_EXIT_USAGE;
	if (!quiet && isatty(STDERR_FILENO)) {
		pr.on = true;
		clock_gettime(CLOCK_MONOTONIC, &pr.start);
		o.progress = show_progress;
		o.progress_arg = &pr;
	}
	progs_unlink_on_fatal_signal(&tmpnames);
	o.tmpnames = &tmpnames;
	err = erofs_convert(&o, &res, &log);
	if (!err && json) {
		char *text = erofs_convert_result_json(&res);

		if (!text) {
			err = -ENOMEM;
		} else {
			puts(text);
			free(text);
		}
	} else if (!err && !quiet) {
		printf("%s: manifest %s, %u layers, %" PRIu64
		       " bytes read, %" PRIu64 " stored, %" PRIu64
		       " deduplicated\n",
		       o.outdir, res.manifest_digest, res.nr_layers,
		       res.bytes_read, res.bytes_stored,
		       res.bytes_deduplicated);
	}
	erofs_convert_result_free(&res);
	return err ? 1 : 0;
}
