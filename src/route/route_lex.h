/* Lexer of the route language (PROTOCOL.md 7.3). Internal to src/route/.
 *
 * Tokens are chosen by longest match over all token classes; on equal
 * length the priority is operator > keyword/literal word > number > string >
 * `$` reference > identifier, which reproduces the lexical consequences of
 * 7.3 (`temp-1` is one identifier, `x > -5` has a negative number). */
#ifndef GH_ROUTE_ROUTE_LEX_H
#define GH_ROUTE_ROUTE_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Longest numeric literal accepted, in bytes. */
#define ROUTE_NUMBER_TEXT_MAX 128

enum tok_type {
    TK_EOF = 0,
    TK_NUM,
    TK_STR,
    TK_IDENT,
    TK_SYS, /* $query-path */
    TK_SELECT,
    TK_FROM,
    TK_WHERE,
    TK_INTO,
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_TRUE,
    TK_FALSE,
    TK_NULL,
    TK_UNDEF,
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_LBRACE,
    TK_RBRACE,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_PERCENT,
    TK_CAT,      /* || */
    TK_COALESCE, /* ?? */
};

struct token {
    enum tok_type type;
    size_t pos; /* byte offset of the first character */
    size_t len;
    double num;     /* TK_NUM */
    size_t str_len; /* TK_STR: decoded length in bytes */
};

struct lexer {
    const uint8_t *s;
    size_t n;
    size_t pos;
    /* Set on error: byte offset and message (static text or formatted). */
    size_t err_pos;
    char err_msg[96];
};

void route_lex_init(struct lexer *lx, const uint8_t *s, size_t n);
/* Next token. GH_ERR_CONFIG_SYNTAX with lx->err_* set on a lexical error. */
GH_NODISCARD gh_err route_lex_next(struct lexer *lx, struct token *t);
/* The source path after FROM: "/" item { "/" item }, no inner whitespace.
 * GH_ERR_CONFIG_SYNTAX with lx->err_* set when malformed. */
GH_NODISCARD gh_err route_lex_source(struct lexer *lx, struct token *t);
/* Restart lexing at byte offset pos (used to split "-5" into "-" "5"). */
void route_lex_rewind(struct lexer *lx, size_t pos);
/* Decode a TK_STR token into out (t->str_len bytes are written). */
void route_lex_unescape(const struct lexer *lx, const struct token *t, uint8_t *out);
/* True for characters allowed in identifiers (7.3 id-char). */
bool route_is_id_char(uint8_t c);

#endif
