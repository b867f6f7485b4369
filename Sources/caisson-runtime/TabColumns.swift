/// Column alignment as Go's text/tabwriter does it with padding by spaces: cells are
/// tab-separated; consecutive lines holding a tab form one block whose columns are as
/// wide as their widest cell plus `padding` (at least `minWidth`); a line's last cell is
/// never padded. Widths count Unicode scalars, as tabwriter counts runes.
struct TabColumns {
    let minWidth: Int
    let padding: Int

    /// runc's `list` table: tabwriter.NewWriter(out, 12, 1, 3, ' ', 0).
    static let list = TabColumns(minWidth: 12, padding: 3)
    /// urfave/cli's help: tabwriter.NewWriter(out, 1, 8, 2, ' ', 0).
    static let help = TabColumns(minWidth: 1, padding: 2)

    /// Aligns `text`, whose lines may hold tab-separated cells.
    func align(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        var output: [String] = []
        var block: [[String]] = []
        func flush() {
            guard !block.isEmpty else { return }
            output += alignBlock(block)
            block = []
        }
        for cells in lines {
            if cells.count > 1 {
                block.append(cells)
            } else {
                flush()
                output.append(cells[0])
            }
        }
        flush()
        return output.joined(separator: "\n")
    }

    /// Aligns rows of cells (all but the last column padded).
    func alignBlock(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: minWidth, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() where index < row.count - 1 {
                widths[index] = max(widths[index], cell.unicodeScalars.count + padding)
            }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 {
                    line += String(repeating: " ", count: widths[index] - cell.unicodeScalars.count)
                }
            }
            return line
        }
    }
}
