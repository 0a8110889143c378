#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

struct entry {
    gh_err code;
    enum gh_err_category cat;
    const char *name;
    const char *msg;
};

static const struct entry table[] = {
#define GH_X(name, num, cat, msg) {GH_ERR_##name, GH_CAT_##cat, "GH_ERR_" #name, msg},
    GH_ERROR_TABLE(GH_X)
#undef GH_X
};

static const struct entry *find(gh_err e)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == e) return &table[i];
    return NULL;
}

const char *gh_err_str(gh_err e)
{
    const struct entry *t = find(e);
    return t ? t->msg : "unknown error";
}

const char *gh_err_name(gh_err e)
{
    const struct entry *t = find(e);
    return t ? t->name : "GH_ERR_UNKNOWN";
}

enum gh_err_category gh_err_category(gh_err e)
{
    const struct entry *t = find(e);
    return t ? t->cat : GH_CAT_INTERNAL;
}

const char *gh_err_category_str(enum gh_err_category c)
{
    switch (c) {
#define GH_X(name, num, text)                                                                      \
    case GH_CAT_##name:                                                                            \
        return text;
        GH_ERROR_CATEGORIES(GH_X)
#undef GH_X
    }
    return "internal";
}

int gh_err_exit_status(gh_err e)
{
    return e == GH_OK ? 0 : (int)gh_err_category(e);
}

gh_err gh_err_from_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return GH_ERR_NOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return GH_ERR_PERM;
    case ENOSPC:
    case EDQUOT:
        return GH_ERR_NOSPACE;
    case EEXIST:
        return GH_ERR_EXISTS;
    case ENOMEM:
        return GH_ERR_NOMEM;
    default:
        return GH_ERR_IO;
    }
}

gh_err gh_err_say(char *msg, size_t cap, gh_err rc, const char *fmt, ...)
{
    if (msg != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}
