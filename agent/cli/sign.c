/* SPDX-License-Identifier: Apache-2.0 */
/* `hookfwd sign`: the signature header(s) a source expects for a body. */
#define _GNU_SOURCE
#include "cli.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hf_cmd_sign(const struct hf_args *a)
{
    struct hf_config *c = hf_cli_load(a->config);
    if (!c)
        return 1;
    const struct hf_source *s = hf_cli_source(c, a->source);
    int rc = 1;
    if (s) {
        FILE *f = a->pos ? fopen(a->pos, "rb") : stdin;
        if (!f) {
            fprintf(stderr, "hookfwd: cannot open %s\n", a->pos);
        } else {
            size_t len;
            char *body = hf_cli_read_all(f, &len);
            if (f != stdin)
                fclose(f);
            struct hf_buf out;
            hf_buf_init(&out, 0);
            hf_cli_signature_headers(s, body, len, &out);
            fputs(out.data, stdout);
            hf_buf_free(&out);
            free(body);
            rc = 0;
        }
    }
    hf_config_free(c);
    return rc;
}
