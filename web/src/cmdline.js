// `?cmd=` to argv: split like a POSIX shell splits words, without running a shell, so
// `?cmd=python3 -c 'print(6*7)'` is ["python3", "-c", "print(6*7)"], exactly what
// `docker run IMAGE python3 -c 'print(6*7)'` passes. Single quotes keep everything; double
// quotes keep everything but `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes keeps
// the next character. There is no expansion: `$HOME`, `*` and `~` stay as written (run
// `sh -c '...'` for those).

export function splitCommand(s) {
  const words = [];
  let word = null;
  let i = 0;
  const add = (c) => {
    word = (word ?? "") + c;
  };
  while (i < s.length) {
    const c = s[i++];
    if (c === "'") {
      const end = s.indexOf("'", i);
      if (end < 0) throw new Error("unterminated single quote");
      add(s.slice(i, end));
      i = end + 1;
    } else if (c === '"') {
      word = word ?? "";
      for (;;) {
        if (i >= s.length) throw new Error("unterminated double quote");
        const d = s[i++];
        if (d === '"') break;
        if (d === "\\" && i < s.length && '"\\$`'.includes(s[i])) add(s[i++]);
        else add(d);
      }
    } else if (c === "\\") {
      if (i < s.length) add(s[i++]);
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      add(c);
    }
  }
  if (word !== null) words.push(word);
  return words;
}
