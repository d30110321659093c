/* SPDX-License-Identifier: Apache-2.0 */
/* hookfwd's command line: the table of commands (one file each in cli/). */
#define _GNU_SOURCE
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hf_command commands[] = {
    {"run", hf_cmd_run, "[-c FILE]"},
    {"check", hf_cmd_check, "-c FILE"},
    {"sign", hf_cmd_sign, "-c FILE --source NAME [BODYFILE]"},
    {"send-test", hf_cmd_send_test, "-c FILE --source NAME [--event TYPE] [--url URL] [--ca FILE]"},
    {"test-sink", hf_cmd_test_sink, "-c FILE NAME"},
    {"replay", hf_cmd_replay, "-c FILE --sink NAME [DLQFILE]"},
    {"version", hf_cmd_version, ""},
    {"dashboard", hf_cmd_dashboard, "datadog|splunk|grafana [-c FILE] [--list | --file NAME | -o DIR]"},
    {"top", hf_cmd_top, "[-c FILE] [--admin URL]"},
};

static void usage(FILE *f)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "%s hookfwd %s%s%s\n", i ? "      " : "usage:", commands[i].name, commands[i].usage[0] ? " " : "",
                commands[i].usage);
}

static int parse_args(int argc, char **argv, struct hf_args *a)
{
    memset(a, 0, sizeof(*a));
    a->config = HF_DEFAULT_CONFIG;
    a->argc = argc;
    a->argv = argv;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        const char **dst = !strcmp(k, "-c") || !strcmp(k, "--config")   ? &a->config
                           : !strcmp(k, "--source")                     ? &a->source
                           : !strcmp(k, "--event")                      ? &a->event
                           : !strcmp(k, "--url")                        ? &a->url
                           : !strcmp(k, "--ca")                         ? &a->ca
                           : !strcmp(k, "--sink")                       ? &a->sink
                           : !strcmp(k, "--admin")                      ? &a->admin
                           : !strcmp(k, "--file")                       ? &a->file
                           : !strcmp(k, "-o") || !strcmp(k, "--output") ? &a->output
                                                                        : NULL;
        bool *flag = !strcmp(k, "--list")      ? &a->list
                     : !strcmp(k, "--metrics") ? &a->metrics
                     : !strcmp(k, "--shipped") ? &a->shipped
                                               : NULL;
        if (flag) {
            *flag = true;
            continue;
        }
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hookfwd: %s needs a value\n", k);
                return -1;
            }
            *dst = argv[++i];
        } else if (k[0] == '-' && k[1]) {
            fprintf(stderr, "hookfwd: unknown option %s\n", k);
            return -1;
        } else if (!a->pos) {
            a->pos = k;
        } else {
            fprintf(stderr, "hookfwd: unexpected argument %s\n", k);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version"))
        cmd = "version";
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    const struct hf_command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !c; i++)
        if (!strcmp(commands[i].name, cmd))
            c = &commands[i];
    if (!c) {
        fprintf(stderr, "hookfwd: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    struct hf_args a;
    if (parse_args(argc, argv, &a) < 0) {
        usage(stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = c->run(&a);
    curl_global_cleanup();
    return rc;
}
