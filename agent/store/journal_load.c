/* SPDX-License-Identifier: Apache-2.0 */
/* What a journal's open finds on disk: its segments scanned and verified
 * (a torn tail cut, a segment's end mark read as its end), the sinks'
 * saved positions, and dedup.log compacted. */
#define _GNU_SOURCE
#include "journal_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t hf_journal_entry_crc(uint64_t seq, const void *payload, size_t len)
{
    unsigned char s[8];
    put64(s, seq);
    return hf_crc32c(hf_crc32c(0, s, 8), payload, len);
}

void hf_journal_seg_path(const struct hf_journal *j, uint64_t first, char *out, size_t n)
{
    snprintf(out, n, "%s/%020llu.seg", j->dir, (unsigned long long)first);
}

/* ---- opening: scan, verify, truncate a torn tail ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void keep_loaded(struct hf_journal *j, uint64_t seq, const unsigned char *payload, size_t len)
{
    /* doubling: a journal kept from before may hold a million entries */
    if ((j->nloaded & (j->nloaded - 1)) == 0)
        j->loaded = hf_realloc(j->loaded, (j->nloaded ? 2 * j->nloaded : 1) * sizeof(*j->loaded));
    j->loaded[j->nloaded++] = (struct loaded){.seq = seq, .json = hf_strndup((const char *)payload, len), .len = len};
}

/* Reads one segment; returns the byte offset of its valid end. */
static off_t scan_segment(struct hf_journal *j, const char *path, struct segment *seg, bool *corrupt)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *corrupt = false;
    if (fd < 0)
        return 0;
    struct stat st;
    fstat(fd, &st);
    unsigned char *buf = st.st_size ? malloc((size_t)st.st_size) : NULL;
    size_t len = 0;
    while (buf && len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    size_t off = 0;
    while (off < len) {
        if (len - off >= HDR_LEN && !memcmp(buf + off, hf_journal_end_mark, HDR_LEN))
            break; /* the end as written (what follows is a recycled segment's past) */
        if (len - off < HDR_LEN) {
            *corrupt = true;
            break;
        }
        uint32_t magic = get32(buf + off), plen = get32(buf + off + 4), crc = get32(buf + off + 16);
        uint64_t seq = get64(buf + off + 8);
        if (magic != MAGIC || plen > MAX_ENTRY || len - off - HDR_LEN < plen ||
            hf_journal_entry_crc(seq, buf + off + HDR_LEN, plen) != crc) {
            *corrupt = true;
            break;
        }
        if (seg->first == 0)
            seg->first = seq;
        seg->last = seq;
        keep_loaded(j, seq, buf + off + HDR_LEN, plen);
        if (seq >= j->next_seq)
            j->next_seq = seq + 1;
        off += HDR_LEN + plen;
    }
    free(buf);
    seg->bytes = off;
    return (off_t)off;
}

uint64_t hf_journal_saved_position(const struct hf_journal *j, const char *name, uint64_t max)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/%s", j->dir, name);
    FILE *f = fopen(path, "r");
    unsigned long long pos = 0;
    if (f) {
        if (fscanf(f, "%llu", &pos) != 1)
            pos = 0;
        fclose(f);
    }
    return pos > max ? pos : max;
}

int hf_journal_load(struct hf_journal *j, struct hf_cerr *err)
{
    DIR *d = opendir(j->dir);
    if (!d) {
        snprintf(err->msg, sizeof(err->msg), "storage: cannot open %s: %s", j->dir, strerror(errno));
        return -1;
    }
    uint64_t *firsts = NULL;
    size_t n = 0;
    struct dirent *de;
    uint64_t max_pos = 0;
    while ((de = readdir(d))) {
        char *end;
        unsigned long long v = strtoull(de->d_name, &end, 10);
        if (end != de->d_name && !strcmp(end, ".seg")) {
            firsts = hf_realloc(firsts, (n + 1) * sizeof(*firsts));
            firsts[n++] = v;
        }
        size_t nl = strlen(de->d_name);
        if (nl > 4 && !strcmp(de->d_name + nl - 4, ".pos"))
            max_pos = hf_journal_saved_position(j, de->d_name, max_pos);
        if (!strcmp(de->d_name, SPARE))
            j->spare = true;
    }
    closedir(d);
    /* new entries must number above every sink's saved position, even when
     * every segment was delivered and deleted: one at or below it would be
     * taken as delivered by the next start */
    if (max_pos >= j->next_seq)
        j->next_seq = max_pos + 1;
    if (n)
        qsort(firsts, n, sizeof(*firsts), cmp_u64);
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        hf_journal_seg_path(j, firsts[i], path, sizeof(path));
        struct segment seg = {0};
        bool corrupt;
        off_t valid = scan_segment(j, path, &seg, &corrupt);
        if (corrupt) {
            /* a torn write (power loss) or a zero-filled block: keep what is intact */
            hf_log_warn("journal",
                        "%s: damaged entry at byte %lld; truncating the segment there, %llu entries before "
                        "it are kept",
                        path, (long long)valid, (unsigned long long)(seg.first ? seg.last - seg.first + 1 : 0));
            if (truncate(path, valid) < 0)
                hf_log_error("journal", "cannot truncate %s: %s", path, strerror(errno));
        }
        if (seg.first == 0) {
            unlink(path);
            continue;
        }
        j->segs = hf_realloc(j->segs, (j->nsegs + 1) * sizeof(*j->segs));
        j->segs[j->nsegs++] = seg;
        atomic_fetch_add(&j->bytes, seg.bytes);
    }
    free(firsts);
    return 0;
}

void hf_journal_compact_dedup(struct hf_journal *j, bool restore)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/dedup.log", j->dir);
    snprintf(tmp, sizeof(tmp), "%s/dedup.log.tmp", j->dir);
    char **ring = hf_calloc(DEDUP_KEEP, sizeof(char *));
    size_t n = 0;
    FILE *f = fopen(path, "r");
    int64_t now = hf_now_ms();
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        long long exp = strtoll(line, NULL, 10);
        if (exp <= now || !strchr(line, '\n'))
            continue; /* expired, or a torn last line */
        free(ring[n % DEDUP_KEEP]);
        ring[n % DEDUP_KEEP] = hf_strdup(line);
        n++;
    }
    free(line);
    if (f)
        fclose(f);
    size_t first = n > DEDUP_KEEP ? n - DEDUP_KEEP : 0, written = 0;
    FILE *o = fopen(tmp, "w");
    if (restore)
        j->dedup_lines = hf_calloc(n - first + 1, sizeof(char *));
    for (size_t i = first; o && i < n; i++) {
        char *l = ring[i % DEDUP_KEEP];
        fputs(l, o);
        written += strlen(l);
        if (restore) {
            j->dedup_lines[j->ndedup++] = l;
            ring[i % DEDUP_KEEP] = NULL;
        }
    }
    for (size_t i = 0; i < DEDUP_KEEP; i++)
        free(ring[i]);
    free(ring);
    if (o && fflush(o) == 0 && fsync(fileno(o)) == 0 && fclose(o) == 0)
        rename(tmp, path);
    else if (o)
        fclose(o);
    if (j->dedup_fd >= 0)
        close(j->dedup_fd);
    j->dedup_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    j->dedup_bytes = written;
}
