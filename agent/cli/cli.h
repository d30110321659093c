/* SPDX-License-Identifier: Apache-2.0 */
/* hookfwd's commands: one file each, dispatched from main.c's table. */
#ifndef HF_CLI_H
#define HF_CLI_H

#include "config.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HF_DEFAULT_CONFIG "/etc/hookfwd/hookfwd.yaml"

/* The command line after the command name. */
struct hf_args {
    const char *config, *source, *event, *url, *sink, *admin, *pos;
    const char *ca; /* send-test --ca FILE: the CA (or certificate) a TLS listener is verified with */
    const char *file, *output; /* dashboard --file NAME, -o DIR */
    bool list, metrics, shipped; /* dashboard --list, --metrics, --shipped */
    int argc; /* the whole command line, for commands with their own flags */
    char **argv;
};

struct hf_command {
    const char *name;
    int (*run)(const struct hf_args *a);
    const char *usage; /* arguments, for `hookfwd help` */
};

int hf_cmd_run(const struct hf_args *a);
int hf_cmd_check(const struct hf_args *a);
int hf_cmd_sign(const struct hf_args *a);
int hf_cmd_send_test(const struct hf_args *a);
int hf_cmd_test_sink(const struct hf_args *a);
int hf_cmd_replay(const struct hf_args *a);
int hf_cmd_version(const struct hf_args *a);
int hf_cmd_dashboard(const struct hf_args *a);
int hf_cmd_top(const struct hf_args *a);

/* Shared by the commands (common.c). */
struct hf_sink;
struct hf_source;
/* Loads and validates a configuration; NULL after printing the errors. */
struct hf_config *hf_cli_load(const char *path);
/* The source called name; NULL after saying so. */
const struct hf_source *hf_cli_source(const struct hf_config *c, const char *name);
/* Reads f to its end (at most 64 MiB); *len is set, the result is NUL-terminated. */
char *hf_cli_read_all(FILE *f, size_t *len);
/* The signature headers source s expects for body, as "Name: value" lines. */
void hf_cli_signature_headers(const struct hf_source *s, const char *body, size_t len, struct hf_buf *out);
/* Creates the sink called name (not started); NULL after saying why. */
struct hf_sink *hf_cli_open_sink(struct hf_config *c, const char *name);

#endif
