/* SPDX-License-Identifier: Apache-2.0 */
/* The e-mail sink's options and what `hookfwd check` refuses: a URL that is
 * not smtp:// or smtps:// (or carries credentials), addresses that are not
 * addresses, a password that would cross the network in the clear, a
 * digest time or time zone that does not exist. */
#define _GNU_SOURCE
#include "email.h"
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct hf_option digest_options[] = {{.name = "every",
                                                   .type = HF_OPT_DURATION,
                                                   .def = "24h",
                                                   .min = 1000,
                                                   .max = 31LL * 86400000,
                                                   .help = "one digest per period (boundaries from local midnight)",
                                                   HF_OPT_AT(struct email_conf, digest.every_ms)},
                                                  {.name = "at",
                                                   .type = HF_OPT_STR,
                                                   .help = "HH:MM, the time of day of a daily digest (with every: 24h)",
                                                   HF_OPT_AT(struct email_conf, digest.at)},
                                                  {.name = "timezone",
                                                   .type = HF_OPT_STR,
                                                   .def = "UTC",
                                                   .help = "UTC, an offset (+02:00) or a zone name (Europe/Berlin)",
                                                   HF_OPT_AT(struct email_conf, digest.timezone)},
                                                  {.name = "max_items",
                                                   .type = HF_OPT_INT,
                                                   .def = "50",
                                                   .min = 1,
                                                   .max = 1000,
                                                   .help = "the newest events listed in a digest",
                                                   HF_OPT_AT(struct email_conf, digest.max_items)},
                                                  {0}};

static const struct hf_option tls_options[] = {HF_TLS_OPTIONS(struct email_conf, tls), {0}};

const struct hf_option email_options[] = {
    {.name = "url",
     .type = HF_OPT_STR,
     .required = true,
     .help = "smtp://host:587 or smtps://host:465",
     HF_OPT_AT(struct email_conf, url)},
    {.name = "starttls",
     .type = HF_OPT_ENUM,
     .enums = "required|optional|off",
     .def = "required",
     .help = "STARTTLS on smtp:// (smtps:// is TLS from the start)",
     HF_OPT_AT(struct email_conf, starttls)},
    {.name = "username", .type = HF_OPT_STR, .help = "SMTP AUTH user", HF_OPT_AT(struct email_conf, username)},
    {.name = "password", .type = HF_OPT_SECRET, .help = "SMTP AUTH password", HF_OPT_AT(struct email_conf, password)},
    {.name = "from",
     .type = HF_OPT_STR,
     .required = true,
     .help = "sender, \"Name <a@example.com>\" or a@example.com",
     HF_OPT_AT(struct email_conf, from)},
    {.name = "to", .type = HF_OPT_STRLIST, .required = true, .help = "recipients", HF_OPT_AT(struct email_conf, to)},
    {.name = "subject",
     .type = HF_OPT_TEMPLATE,
     .help = "per-event template (${event_type}, ${data.repo}, ...)",
     HF_OPT_AT(struct email_conf, subject)},
    {.name = "mode",
     .type = HF_OPT_ENUM,
     .enums = "each|digest",
     .def = "each",
     .help = "each: one message per event; digest: one per period",
     HF_OPT_AT(struct email_conf, mode)},
    {.name = "digest", .type = HF_OPT_OBJ, .sub = digest_options, .help = "digest period and contents"},
    {.name = "timeout",
     .type = HF_OPT_DURATION,
     .def = "30s",
     .min = 100,
     .max = 600000,
     .help = "one SMTP transaction",
     HF_OPT_AT(struct email_conf, timeout_ms)},
    {.name = "tls", .type = HF_OPT_OBJ, .sub = tls_options, .help = "certificate checks"},
    {0}};

static int check_url(const struct email_conf *cf, const struct hf_check *ck)
{
    if (hf_check_url(ck, "url", cf->url, "smtp|smtps") < 0)
        return -1;
    CURLU *u = curl_url();
    char *scheme = NULL, *path = NULL;
    int rc = 0;
    if (curl_url_set(u, CURLUPART_URL, cf->url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strchr(path + (path[0] == '/'), '/'))
            rc = hf_check_fail(ck, "url",
                               "the path is only the name to greet the server with "
                               "(smtp://host:587/client.example)");
        else if (cf->password && cf->starttls == EMAIL_TLS_OFF && !strcmp(scheme, "smtp"))
            rc = hf_check_fail(ck, "starttls",
                               "a password would cross the network in clear text: use starttls "
                               "required or optional, or smtps://");
    }
    curl_free(scheme);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static int check_digest(const struct email_conf *cf, const struct hf_check *ck)
{
    char why[300];
    if (cf->digest.at) {
        if (email_parse_hhmm(cf->digest.at) < 0)
            return hf_check_fail(ck, "digest.at", "'%s' is not a time of day (HH:MM, 00:00 to 23:59)", cf->digest.at);
        if (cf->digest.every_ms != 86400000)
            return hf_check_fail(ck, "digest.at", "a time of day needs every: 24h");
    }
    struct email_tz *tz = email_tz_load(cf->digest.timezone, why, sizeof(why));
    if (!tz)
        return hf_check_fail(ck, "digest.timezone", "%s", why);
    email_tz_free(tz);
    return 0;
}

int email_check(const void *conf, const struct hf_check *ck)
{
    const struct email_conf *cf = conf;
    char spec[320];
    if (check_url(cf, ck) < 0)
        return -1;
    if (cf->username && !cf->password)
        return hf_check_fail(ck, "password", "username is set but password is not");
    if (cf->password && !cf->username)
        return hf_check_fail(ck, "username", "password is set but username is not");
    if (email_addr_spec(cf->from, false, spec, sizeof(spec)) < 0)
        return hf_check_fail(ck, "from", "'%s' is not an e-mail address", cf->from);
    if (cf->to.n == 0)
        return hf_check_fail(ck, "to", "at least one recipient is needed");
    for (size_t i = 0; i < cf->to.n; i++)
        if (email_addr_spec(cf->to.v[i], false, spec, sizeof(spec)) < 0)
            return hf_check_fail(ck, "to", "'%s' is not an e-mail address", cf->to.v[i]);
    if (hf_check_tls(ck, &cf->tls) < 0)
        return -1;
    return check_digest(cf, ck);
}
