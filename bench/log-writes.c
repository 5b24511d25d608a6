/*
 * What it costs to write SQLite's log frames as SQLite writes them (two writes a frame: its
 * 24-byte header, then its page) against writing a commit's frames in few calls, each
 * commit then synced. Prints the process's CPU time (user + system) per frame.
 *
 *   cc -O2 -o /tmp/log-writes bench/log-writes.c
 *   taskset -c 0 /tmp/log-writes MODE FRAMES COMMITS [FILE]
 *
 * MODE 0: two writes a frame; 1: one write a commit; 2: writes of at most 131,071 bytes
 * (the most SQLite's unix VFS writes in one call, as papo's log VFS does). FRAMES frames of
 * 4 KiB pages a commit, COMMITS commits, into FILE (default ./log-writes.tmp, removed after),
 * restarting at its start every 64 MiB as SQLite's log does after a checkpoint.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { HEADER = 24, PAGE = 4096, PIECE = 0x1ffff };

static double cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
}

static void write_all(int fd, const char *buf, size_t len, off_t at) {
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, at);
        if (n <= 0) {
            perror("pwrite");
            exit(1);
        }
        buf += n;
        len -= (size_t)n;
        at += n;
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODE FRAMES COMMITS [FILE]\n", argv[0]);
        return 2;
    }
    int mode = atoi(argv[1]), frames = atoi(argv[2]), commits = atoi(argv[3]);
    const char *path = argc > 4 ? argv[4] : "log-writes.tmp";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    size_t frame = HEADER + PAGE, commit = frame * (size_t)frames;
    char *buf = malloc(commit);
    memset(buf, 7, commit);
    off_t at = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double c0 = cpu_seconds();
    for (int c = 0; c < commits; c++) {
        if (at > 64L * 1024 * 1024) at = 0;
        if (mode == 0) {
            for (int f = 0; f < frames; f++) {
                write_all(fd, buf + f * frame, HEADER, at);
                write_all(fd, buf + f * frame + HEADER, PAGE, at + HEADER);
                at += (off_t)frame;
            }
        } else {
            size_t piece = mode == 1 ? commit : PIECE;
            for (size_t done = 0; done < commit; done += piece) {
                size_t n = commit - done < piece ? commit - done : piece;
                write_all(fd, buf + done, n, at + (off_t)done);
            }
            at += (off_t)commit;
        }
        if (fsync(fd) != 0) {
            perror("fsync");
            return 1;
        }
    }
    double c1 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    printf("mode %d, %d frames a commit: %.2f us of CPU a frame, %.1f us a commit\n", mode,
           frames, (c1 - c0) * 1e6 / ((double)frames * commits), wall / commits);
    close(fd);
    unlink(path);
    return 0;
}
