// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-cookies: where an EROFS image lives in a cachefiles cache, how much
 * of it is there, and seeding it offline.  Option parsing only; the work is
 * done by liberofs (reader, cookie layout, cache).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/log.h"
#include "erofs/reader.h"

#define EXIT_OK		0
#define EXIT_NOT_CACHED 1 /* check: incomplete; seed: failed */
#define EXIT_USAGE	2 /* usage or bad input */

enum { CMD_TABLE, CMD_CHECK, CMD_SEED };

struct opts {
	int cmd;
	const char *fsid;
	const char *domain_id;
	const char **devices;
	unsigned int nr_devices;
	const char *blob_dir;
	const char *cache_dir;
	const char *bootstrap;
	char *bootstrap_buf;
	int json;
};

static void usage(FILE *f)
{
	fputs("usage: erofs-cookies [OPTIONS] BOOTSTRAP\n"
	      "       erofs-cookies check --cache-dir DIR --fsid F [OPTIONS] "
	      "[BOOTSTRAP]\n"
	      "       erofs-cookies seed --cache-dir DIR --blob-dir B --fsid F "
	      "[OPTIONS] [BOOTSTRAP]\n"
	      "options:\n"
	      "  --fsid=F          fsid mount option (cookie key of the "
	      "bootstrap)\n"
	      "  --domain-id=D     domain_id mount option\n"
	      "  --device=KEY      device= mount option, once per extra "
	      "device\n"
	      "  --blob-dir=B      blobs are B/<cookie key>; bootstrap "
	      "defaults to B/<fsid>\n"
	      "  --cache-dir=DIR   cachefiles root (the daemon's \"dir\")\n"
	      "  --json            JSON output\n"
	      "  -v, --verbose     more messages (repeatable)\n"
	      "  -q, --quiet       errors only\n"
	      "  -h, --help        this help\n"
	      "exit: 0 ok / fully cached, 1 not fully cached / seed failed, "
	      "2 usage or bad input\n",
	      f);
}

static int parse_args(int argc, char **argv, struct opts *o,
		      struct erofs_log *log)
{
	static const struct option longopts[] = {
	    {"fsid", required_argument, NULL, 'f'},
	    {"domain-id", required_argument, NULL, 'd'},
	    {"device", required_argument, NULL, 'D'},
	    {"blob-dir", required_argument, NULL, 'b'},
	    {"cache-dir", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	if (argc > 1 && !strcmp(argv[1], "check")) {
		o->cmd = CMD_CHECK;
		argc--;
		argv++;
	} else if (argc > 1 && !strcmp(argv[1], "seed")) {
		o->cmd = CMD_SEED;
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->fsid = optarg;
			break;
		case 'd':
			o->domain_id = optarg;
			break;
		case 'D': {
			const char **n = realloc(
			    o->devices, (o->nr_devices + 1) * sizeof(*n));

			if (!n)
				return erofs_err(log, -ENOMEM, "options");
			o->devices = n;
			o->devices[o->nr_devices++] = optarg;
			break;
		}
		case 'b':
			o->blob_dir = optarg;
			break;
		case 'c':
			o->cache_dir = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'v':
			log->level++;
			break;
		case 'q':
			log->level = EROFS_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->bootstrap = argv[optind++];
	if (optind < argc)
		return erofs_err(log, -EINVAL, "unexpected argument %s",
				 argv[optind]);
	if (!o->bootstrap && o->blob_dir && o->fsid) {
		if (asprintf(&o->bootstrap_buf, "%s/%s", o->blob_dir, o->fsid) <
		    0)
			return erofs_err(log, -ENOMEM, "options");
		o->bootstrap = o->bootstrap_buf;
	}
	if (!o->bootstrap)
		return erofs_err(log, -EINVAL,
				 "no BOOTSTRAP given (or --blob-dir and "
				 "--fsid to use B/<fsid>)");
	if (o->domain_id && !o->fsid)
		return erofs_err(log, -EINVAL, "--domain-id needs --fsid");
	if (o->cmd != CMD_TABLE && !o->fsid)
		return erofs_err(log, -EINVAL, "%s needs --fsid",
				 o->cmd == CMD_CHECK ? "check" : "seed");
	if (o->cmd != CMD_TABLE && !o->cache_dir)
		return erofs_err(log, -EINVAL, "%s needs --cache-dir",
				 o->cmd == CMD_CHECK ? "check" : "seed");
	if (o->cmd == CMD_SEED && !o->blob_dir)
		return erofs_err(log, -EINVAL, "seed needs --blob-dir");
	return 0;
}

static int print_json(struct json_object *j)
{
	int ok = puts(json_object_to_json_string_ext(
		     j, JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0;

	json_object_put(j);
	return ok ? 0 : -EIO;
}

static int do_table(const struct opts *o, const struct erofs_image *img,
		    const struct erofs_cookie_table *t,
		    const struct erofs_log *log)
{
	struct json_object *ji, *jt = NULL;
	int err;

	if (!o->json) {
		erofs_image_print(stdout, img);
		if (t) {
			fputc('\n', stdout);
			erofs_cookie_table_print(stdout, t);
		}
		return 0;
	}
	if (erofs_image_to_json(img, &ji))
		return erofs_err(log, -ENOMEM, "JSON output");
	if (t) {
		err = erofs_cookie_table_to_json(t, &jt, log);
		if (err) {
			json_object_put(ji);
			return err;
		}
		if (json_object_object_add(jt, "image", ji)) {
			json_object_put(ji);
			json_object_put(jt);
			return erofs_err(log, -ENOMEM, "JSON output");
		}
		return print_json(jt);
	}
	jt = json_object_new_object();
	if (!jt || json_object_object_add(jt, "image", ji)) {
		json_object_put(ji);
		json_object_put(jt);
		return erofs_err(log, -ENOMEM, "JSON output");
	}
	return print_json(jt);
}

static int do_check(const struct opts *o, const struct erofs_cookie_table *t,
		    const struct erofs_log *log)
{
	struct erofs_cache_report rep;
	struct json_object *j;
	int err, complete;

	err = erofs_cache_check(o->cache_dir, t, &rep, log);
	if (err)
		return EXIT_USAGE;
	complete = rep.complete;
	if (o->json) {
		err =
		    erofs_cache_report_to_json(o->cache_dir, t, &rep, &j, log);
		if (!err)
			err = print_json(j);
	} else {
		erofs_cache_report_print(stdout, o->cache_dir, t, &rep);
	}
	erofs_cache_report_free(&rep);
	if (err)
		return EXIT_USAGE;
	return complete ? EXIT_OK : EXIT_NOT_CACHED;
}

static int do_seed(const struct opts *o, const struct erofs_cookie_table *t,
		   const struct erofs_log *log)
{
	char **src = calloc(t->nr, sizeof(*src));
	int err = 0;

	if (!src) {
		erofs_err(log, -ENOMEM, "seed");
		return EXIT_USAGE;
	}
	for (unsigned int i = 1; i < t->nr; i++) {
		if (t->cookies[i].object_size == EROFS_COOKIE_SIZE_UNKNOWN) {
			err = erofs_err(log, -ENOENT,
					"device %u: no blob file %s/%s", i,
					o->blob_dir, t->cookies[i].key);
			break;
		}
		if (asprintf(&src[i], "%s/%s", o->blob_dir,
			     (const char *)t->cookies[i].key) < 0) {
			src[i] = NULL;
			err = -ENOMEM;
			break;
		}
	}
	if (!err) {
		src[0] = strdup(o->bootstrap);
		err = src[0] ? 0 : -ENOMEM;
	}
	if (err) {
		for (unsigned int i = 0; i < t->nr; i++)
			free(src[i]);
		free(src);
		return EXIT_USAGE;
	}
	err = erofs_cache_seed(o->cache_dir, t, (const char *const *)src, log);
	for (unsigned int i = 0; i < t->nr; i++)
		free(src[i]);
	free(src);
	if (err)
		return EXIT_NOT_CACHED;
	if (!o->json)
		printf("seeded %u objects into %s/cache/%s\n", t->nr,
		       o->cache_dir, t->vol.dir);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct erofs_log log;
	struct erofs_image img;
	struct erofs_cookie_table t = {0};
	int have_table = 0, ret;

	erofs_log_init(&log, "erofs-cookies");
	if (parse_args(argc, argv, &o, &log)) {
		free(o.devices);
		free(o.bootstrap_buf);
		return EXIT_USAGE;
	}
	if (erofs_image_open(&img, o.bootstrap, &log)) {
		free(o.devices);
		free(o.bootstrap_buf);
		return EXIT_USAGE;
	}
	ret = EXIT_OK;
	if (o.fsid) {
		if (erofs_cookie_table_from_image(&t, &img, o.fsid, o.domain_id,
						  o.devices, o.nr_devices,
						  img.size, o.blob_dir, &log))
			ret = EXIT_USAGE;
		else
			have_table = 1;
	} else if (o.devices) {
		erofs_err(&log, -EINVAL, "--device needs --fsid");
		ret = EXIT_USAGE;
	}
	if (ret == EXIT_OK) {
		switch (o.cmd) {
		case CMD_TABLE:
			ret = do_table(&o, &img, have_table ? &t : NULL, &log)
				  ? EXIT_USAGE
				  : EXIT_OK;
			break;
		case CMD_CHECK:
			ret = do_check(&o, &t, &log);
			break;
		case CMD_SEED:
			ret = do_seed(&o, &t, &log);
			break;
		}
	}
	if (have_table)
		erofs_cookie_table_free(&t);
	erofs_image_close(&img);
	free(o.devices);
	free(o.bootstrap_buf);
	return ret;
}
