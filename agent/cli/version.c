/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd version`: ours and the linked libraries' versions. */
#define _GNU_SOURCE
#include "cli.h"
#include "sink.h"
#include <curl/curl.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <yaml.h>
#include <zlib.h>
#ifdef HF_WITH_KAFKA
#include <librdkafka/rdkafka.h>
#endif

#ifndef HF_VERSION
#define HF_VERSION "0.0.0"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_version(void);

int hf_cmd_version(const struct hf_args *a)
{
    (void)a;
    return print_version();
}

static int print_version(void)
{
    printf("hookfwd %s\n", HF_VERSION);
    printf("  libevent %s\n  %s\n  json-c %s\n  libyaml %s\n  %s\n  zlib %s\n", event_get_version(),
           OpenSSL_version(OPENSSL_VERSION), json_c_version(), yaml_get_version_string(), curl_version(),
           zlibVersion());
#ifdef HF_WITH_KAFKA
    printf("  librdkafka %s\n", rd_kafka_version_str());
#endif
    printf("  sinks:");
    for (int i = 0; hf_plugins[i]; i++)
        printf(" %s", hf_plugins[i]->name);
    printf("\n");
    return 0;
}
