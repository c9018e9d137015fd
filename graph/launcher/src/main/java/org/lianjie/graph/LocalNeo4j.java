package org.lianjie.graph;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Embedded Neo4j Community for local development, tests and CI.
 *
 * Usage: java -cp ... org.lianjie.graph.LocalNeo4j --home DIR [--port 7687] [--pagecache 256m] [--import-dir DIR]
 * Bolt listens on 127.0.0.1 only; authentication is off because nothing outside
 * this machine can reach it. SIGTERM (or Ctrl-C) shuts the database down cleanly.
 */
public final class LocalNeo4j {

    private LocalNeo4j() {
    }

    public static void main(String[] args) throws InterruptedException, IOException {
        Map<String, String> options = parseOptions(args);
        Path home = Path.of(options.getOrDefault("home", "var/neo4j/dev")).toAbsolutePath();
        int port = Integer.parseInt(options.getOrDefault("port", "7687"));

        Map<String, String> raw = new TreeMap<>();
        raw.put("server.memory.pagecache.size", options.getOrDefault("pagecache", "256m"));
        raw.put("dbms.security.auth_enabled", "false");
        raw.put("dbms.usage_report.enabled", "false");
        raw.put("server.http.enabled", "false");
        raw.put("server.https.enabled", "false");
        if (options.containsKey("import-dir")) {
            // LOAD CSV reads file:/// URLs from here (used by the ETL benchmark's comparison).
            raw.put("server.directories.import", Path.of(options.get("import-dir")).toAbsolutePath().toString());
        }
        // Keep transaction logs small: this is a working copy, not a backup target.
        raw.put("db.tx_log.rotation.retention_policy", "2 files");
        raw.put("db.tx_log.rotation.size", "64M");
        // Bolt waits 5 s for its worker pool and 5 s for its connections at every shutdown, even when idle: a
        // stop took 10 s. A stop comes after the work (tests, `make run`, the ETL's bulk import), so 1 s each.
        raw.put("internal.server.bolt.thread_pool_shutdown_wait_time", "1s");
        raw.put("internal.server.bolt.connection_shutdown_wait_time", "1s");

        // The builder takes raw settings only from a properties file.
        Files.createDirectories(home);
        Path conf = home.resolve("neo4j.conf");
        StringBuilder text = new StringBuilder("# written by LocalNeo4j at every start\n");
        raw.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        Files.writeString(conf, text.toString(), StandardCharsets.UTF_8);

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .loadPropertiesFromFile(conf)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Lianjie Neo4j: shutting down");
            service.shutdown();
            stopped.countDown();
        }, "neo4j-shutdown"));

        System.out.println("Lianjie Neo4j: Bolt on bolt://127.0.0.1:" + port + " home=" + home);
        System.out.flush();
        stopped.await();
    }

    private static Map<String, String> parseOptions(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got: " + arg);
            }
            options.put(arg.substring(2), args[++i]);
        }
        return options;
    }
}
