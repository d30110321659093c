/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd version`: ours and the linked libraries' versions. */
#define _GNU_SOURCE
#include "cli.h"
#include "sink.h"
#include <curl/curl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <llhttp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <yaml.h>
#include <yyjson.h>
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
    uint32_t yy = yyjson_version(); /* the linked library's, 0xMMmmpp */
    printf("  libevent %s\n  llhttp %d.%d.%d\n  %s\n  yyjson %u.%u.%u\n  libyaml %s\n  %s\n  zlib %s\n",
           event_get_version(), LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH,
           OpenSSL_version(OPENSSL_VERSION), (unsigned)(yy >> 16) & 0xff, (unsigned)(yy >> 8) & 0xff,
           (unsigned)yy & 0xff, yaml_get_version_string(), curl_version(), zlibVersion());
#ifdef HF_WITH_KAFKA
    printf("  librdkafka %s\n", rd_kafka_version_str());
#endif
    /* hiredis has no run-time version call; TLS (rediss://) comes with 1.0 */
    printf("  hiredis %d.%d.%d%s\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH,
           HIREDIS_MAJOR < 1 ? " (no TLS: rediss:// refused)" : "");
    printf("  sinks:");
    for (int i = 0; hf_plugins[i]; i++)
        printf(" %s", hf_plugins[i]->name);
    printf("\n");
    return 0;
}
