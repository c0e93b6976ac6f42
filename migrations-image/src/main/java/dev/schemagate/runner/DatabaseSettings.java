package dev.schemagate.runner;

import dev.schemagate.redact.Redactor;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the database is, from the environment a team already has:
 *
 * <ul>
 *   <li>{@code DATABASE_URL} as {@code postgresql://}, {@code postgres://}, SQLAlchemy's {@code
 *       postgresql+asyncpg://} / {@code postgresql+psycopg2://} (any {@code +driver}), or {@code
 *       jdbc:postgresql://}, with the credentials in it or in {@code DB_USER} / {@code
 *       DB_PASSWORD};
 *   <li>otherwise libpq's {@code PGHOST}, {@code PGPORT}, {@code PGDATABASE}, {@code PGUSER},
 *       {@code PGPASSWORD} (or {@code DB_HOST}, {@code DB_PORT}, {@code DB_NAME}).
 * </ul>
 *
 * The JDBC URL it gives carries no credentials, so that nothing that prints it prints them.
 */
public record DatabaseSettings(String jdbcUrl, String user, String password) {
  private static final Pattern URL =
      Pattern.compile(
          "^(?:jdbc:)?(postgresql|postgres)(?:\\+[a-z0-9_]+)?://(?:([^@/]*)@)?([^/?#]*)(?:/([^?#]*))?(?:\\?([^#]*))?$",
          Pattern.CASE_INSENSITIVE);

  public static DatabaseSettings fromEnvironment(Map<String, String> env) {
    // every secret the environment holds (PGPASSWORD, DB_PASSWORD, a URL's password, ...) is masked
    // from here on, even one this run does not use
    Redactor.secretsIn(env).forEach(Secrets::register);
    String url = env.get("DATABASE_URL");
    DatabaseSettings settings =
        url != null && !url.isBlank() ? fromUrl(url.strip(), env) : fromParts(env);
    Secrets.register(settings.password());
    return settings;
  }

  static DatabaseSettings fromUrl(String url, Map<String, String> env) {
    Matcher m = URL.matcher(url);
    if (!m.matches()) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "DATABASE_URL is not a PostgreSQL URL; use postgresql://app@db:5432/orders (the password after"
              + " \"app:\" or in DB_PASSWORD); postgres://, postgresql+asyncpg:// and jdbc:postgresql:// work too");
    }
    String user = null;
    String password = null;
    if (m.group(2) != null) {
      String credentials = m.group(2);
      int colon = credentials.indexOf(':');
      user = decode(colon < 0 ? credentials : credentials.substring(0, colon));
      password = colon < 0 ? null : decode(credentials.substring(colon + 1));
    }
    Secrets.register(password);
    String hostPort = m.group(3);
    if (hostPort == null || hostPort.isEmpty()) {
      hostPort = env.getOrDefault("PGHOST", "localhost");
    }
    String database =
        m.group(4) == null || m.group(4).isEmpty()
            ? env.getOrDefault("PGDATABASE", "postgres")
            : decode(m.group(4));
    List<String> params = new ArrayList<>();
    if (m.group(5) != null && !m.group(5).isEmpty()) {
      for (String param : m.group(5).split("&")) {
        int eq = param.indexOf('=');
        String key = eq < 0 ? param : param.substring(0, eq);
        String value = eq < 0 ? "" : decode(param.substring(eq + 1));
        switch (key) {
          case "user" -> user = value;
          case "password" -> {
            password = value;
            Secrets.register(password);
          }
          // SQLAlchemy and asyncpg spellings of TLS mode
          case "ssl", "sslmode" ->
              params.add("sslmode=" + ("true".equals(value) ? "require" : value));
          default -> params.add(param);
        }
      }
    }
    user = firstSet(env.get("DB_USER"), user, env.get("PGUSER"));
    password = firstSet(env.get("DB_PASSWORD"), password, env.get("PGPASSWORD"));
    String jdbc =
        "jdbc:postgresql://"
            + hostPort
            + "/"
            + database
            + (params.isEmpty() ? "" : "?" + String.join("&", params));
    return new DatabaseSettings(jdbc, user, password);
  }

  static DatabaseSettings fromParts(Map<String, String> env) {
    String host = firstSet(env.get("PGHOST"), env.get("DB_HOST"));
    if (host == null) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "no database configured: set DATABASE_URL (such as postgresql://app@db:5432/orders, the password"
              + " after \"app:\" or in DB_PASSWORD) or PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD");
    }
    String port = firstSet(env.get("PGPORT"), env.get("DB_PORT"), "5432");
    if (!port.matches("\\d{1,5}")) {
      throw new RunnerException(
          ExitCode.CONFIGURATION, "PGPORT must be a port number, not \"" + port + "\"");
    }
    String user = firstSet(env.get("PGUSER"), env.get("DB_USER"));
    String database = firstSet(env.get("PGDATABASE"), env.get("DB_NAME"), user, "postgres");
    String password = firstSet(env.get("PGPASSWORD"), env.get("DB_PASSWORD"));
    String sslmode = env.get("PGSSLMODE");
    String jdbc =
        "jdbc:postgresql://"
            + host
            + ":"
            + port
            + "/"
            + database
            + (sslmode == null ? "" : "?sslmode=" + sslmode);
    return new DatabaseSettings(jdbc, user, password);
  }

  /** For logs: where, and as whom; never the password. */
  public String describe() {
    return jdbcUrl + (user == null ? "" : " as " + user);
  }

  @Override
  public String toString() {
    return "DatabaseSettings[" + describe() + "]";
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String firstSet(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }
}
